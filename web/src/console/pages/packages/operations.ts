/**
 * The GraphQL operations of the permission package pages: the packages and the catalog they are made
 * from, creating and changing one, granting and revoking per app, and the request queue. Their
 * answer and variable types are generated (npm run web:types).
 */
import { operation } from '../../../lib';
import type * as G from '../../../generated/operations';

export type PermissionPackage = G.ConsolePackagesResult['permissionPackages'][number];
export type PackageTier = PermissionPackage['tier'];
export type CatalogField = G.ConsolePackagesResult['apiCatalog']['fields'][number];
export type Scope = G.ConsolePackagesResult['scopes'][number];
export type AppWithGrants = G.ConsoleAppGrantsResult['apps']['nodes'][number];
export type PackageRequest = G.ConsolePackageRequestsResult['packageRequests']['nodes'][number];
export type PackageRequestStatus = PackageRequest['status'];

export const PACKAGES = operation<G.ConsolePackagesResult, G.ConsolePackagesVariables>(/* GraphQL */ `
  query ConsolePackages {
    permissionPackages { id name description tier updatedAt scopes { name description } }
    scopes { name description }
    apiCatalog { fields { coordinate description requiredScopes } }
  }
`);

export const CREATE_PACKAGE = operation<G.ConsoleCreatePackageResult, G.ConsoleCreatePackageVariables>(/* GraphQL */ `
  mutation ConsoleCreatePackage($input: CreatePermissionPackageInput!) {
    createPermissionPackage(input: $input) { id name }
  }
`);

export const UPDATE_PACKAGE = operation<G.ConsoleUpdatePackageResult, G.ConsoleUpdatePackageVariables>(/* GraphQL */ `
  mutation ConsoleUpdatePackage($input: UpdatePermissionPackageInput!) {
    updatePermissionPackage(input: $input) { id name description tier updatedAt scopes { name description } }
  }
`);

export const APP_GRANTS = operation<G.ConsoleAppGrantsResult, G.ConsoleAppGrantsVariables>(/* GraphQL */ `
  query ConsoleAppGrants($search: String) {
    apps(search: $search, first: 10) {
      nodes {
        key
        name
        status
        developer { id name }
        grantedPackages { id grantedAt reason revokedAt package { id name tier } }
      }
    }
  }
`);

export const GRANT_PACKAGE = operation<G.ConsoleGrantPackageToAppResult, G.ConsoleGrantPackageToAppVariables>(/* GraphQL */ `
  mutation ConsoleGrantPackageToApp($input: PackageGrantInput!) {
    grantPermissionPackage(input: $input) { id grantedAt package { id name } }
  }
`);

export const REVOKE_PACKAGE = operation<G.ConsoleRevokePackageFromAppResult, G.ConsoleRevokePackageFromAppVariables>(/* GraphQL */ `
  mutation ConsoleRevokePackageFromApp($input: PackageGrantInput!) {
    revokePermissionPackage(input: $input) { id revokedAt package { id name } }
  }
`);

export const PACKAGE_REQUESTS = operation<G.ConsolePackageRequestsResult, G.ConsolePackageRequestsVariables>(/* GraphQL */ `
  query ConsolePackageRequests($status: PackageRequestStatus!, $after: String) {
    packageRequests(status: $status, first: 20, after: $after) {
      totalCount
      nodes {
        id
        status
        message
        createdAt
        decidedAt
        decisionReason
        app { key name status developer { id name } }
        package { id name tier scopes { name } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const APPROVE_REQUEST = operation<G.ConsoleApprovePackageRequestResult, G.ConsoleApprovePackageRequestVariables>(/* GraphQL */ `
  mutation ConsoleApprovePackageRequest($input: DecidePackageRequestInput!) {
    approvePackageRequest(input: $input) { id status decidedAt decisionReason }
  }
`);

export const REJECT_REQUEST = operation<G.ConsoleRejectPackageRequestResult, G.ConsoleRejectPackageRequestVariables>(/* GraphQL */ `
  mutation ConsoleRejectPackageRequest($input: DecidePackageRequestInput!) {
    rejectPackageRequest(input: $input) { id status decidedAt decisionReason }
  }
`);
