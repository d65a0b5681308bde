/**
 * The GraphQL operations of the console's developers, apps and review pages: each button is one of
 * these public operations, which an operator can equally script with an operator token. Their answer
 * and variables types are generated (web/scripts/operation-types.ts into
 * web/src/generated/operations.ts): run `npm run web:types` after changing one.
 */
import { operation } from '../lib/graphql';
import type * as G from '../generated/operations';

type Of<T> = NonNullable<T>;
export type DeveloperRow = G.ConsoleDevelopersResult['developers']['nodes'][number];
export type VerificationStatus = DeveloperRow['verificationStatus'];
export type DeveloperDetail = Of<G.ConsoleDeveloperResult['developer']>;
export type AuditEntry = DeveloperDetail['history'][number];
export type AppRow = G.ConsoleAppsResult['apps']['nodes'][number];
export type AppStatus = AppRow['status'];
export type ReviewItem = G.ConsoleReviewQueueResult['appReviews'][number];
export type AppHeader = Of<G.ConsoleAppHeaderResult['app']>;
export type AppOverview = Of<G.ConsoleAppOverviewResult['app']>;
export type AppViolation = Of<G.ConsoleAppActionsResult['app']>['violations'][number];
export type ViolationPenalty = AppViolation['penalty'];
export type AppLimits = Of<G.ConsoleAppLimitsResult['app']>;
export type TierLimits = G.ConsoleAppLimitsResult['tierLimits'][number];
export type AppPackages = Of<G.ConsoleAppPackagesResult['app']>;
export type PackageGrant = AppPackages['grantedPackages'][number];
export type PermissionPackage = G.ConsoleAppPackagesResult['permissionPackages'][number];
export type AppAuthorization = Of<G.ConsoleAppAuthorizationsResult['app']>['authorizations'][number];
export type CallReport = Of<G.ConsoleAppCallsResult['app']>['callReport'];
export type CallGranularity = G.ConsoleAppCallsVariables['granularity'];

const DEVELOPER_DECISION = /* GraphQL */ `id verificationStatus verificationReason disabledAt`;
const APP_STATE = /* GraphQL */ `key status signatureRequired`;

export const DEVELOPERS = operation<G.ConsoleDevelopersResult, G.ConsoleDevelopersVariables>(/* GraphQL */ `
  query ConsoleDevelopers($search: String, $verificationStatus: VerificationStatus, $disabled: Boolean, $first: Int, $after: String) {
    developers(search: $search, verificationStatus: $verificationStatus, disabled: $disabled, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id name email kind companyName verificationStatus emailVerified disabledAt createdAt }
    }
  }
`);

export const DEVELOPER = operation<G.ConsoleDeveloperResult, G.ConsoleDeveloperVariables>(/* GraphQL */ `
  query ConsoleDeveloper($id: ID!) {
    developer(id: $id) {
      id name email kind companyName verificationStatus verificationReason emailVerified announcementEmails disabledAt createdAt
      apps { key name status createdAt }
      history(first: 50) { id at actor action targetType targetId reason details }
    }
  }
`);

export const VERIFY_DEVELOPER = operation<G.ConsoleVerifyDeveloperResult, G.ConsoleVerifyDeveloperVariables>(/* GraphQL */ `
  mutation ConsoleVerifyDeveloper($input: DecideDeveloperInput!) { verifyDeveloper(input: $input) { ${DEVELOPER_DECISION} } }
`);
export const REJECT_DEVELOPER = operation<G.ConsoleRejectDeveloperResult, G.ConsoleRejectDeveloperVariables>(/* GraphQL */ `
  mutation ConsoleRejectDeveloper($input: DecideDeveloperInput!) { rejectDeveloper(input: $input) { ${DEVELOPER_DECISION} } }
`);
export const DISABLE_DEVELOPER = operation<G.ConsoleDisableDeveloperResult, G.ConsoleDisableDeveloperVariables>(/* GraphQL */ `
  mutation ConsoleDisableDeveloper($input: DecideDeveloperInput!) { disableDeveloper(input: $input) { ${DEVELOPER_DECISION} } }
`);
export const ENABLE_DEVELOPER = operation<G.ConsoleEnableDeveloperResult, G.ConsoleEnableDeveloperVariables>(/* GraphQL */ `
  mutation ConsoleEnableDeveloper($input: DecideDeveloperInput!) { enableDeveloper(input: $input) { ${DEVELOPER_DECISION} } }
`);

export const APPS = operation<G.ConsoleAppsResult, G.ConsoleAppsVariables>(/* GraphQL */ `
  query ConsoleApps($search: String, $status: AppStatus, $first: Int, $after: String) {
    apps(search: $search, status: $status, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { key name status createdAt developer { id name companyName } }
    }
  }
`);

export const REVIEW_QUEUE = operation<G.ConsoleReviewQueueResult, G.ConsoleReviewQueueVariables>(/* GraphQL */ `
  query ConsoleReviewQueue($from: DateTime!, $to: DateTime!) {
    appReviews(status: PENDING, first: 50) {
      id notes submittedAt
      app {
        key name description status
        developer { id name companyName verificationStatus }
        packageRequests { id status message createdAt package { id name tier } }
        usage { tier callsToday dailyQuota }
        callReport(from: $from, to: $to, granularity: DAY) { total { calls errors errorRate } }
      }
    }
  }
`);

export const APPROVE_REVIEW = operation<G.ConsoleApproveReviewResult, G.ConsoleApproveReviewVariables>(/* GraphQL */ `
  mutation ConsoleApproveReview($input: DecideAppReviewInput!) { approveAppReview(input: $input) { id status decidedAt decisionReason app { ${APP_STATE} } } }
`);
export const REJECT_REVIEW = operation<G.ConsoleRejectReviewResult, G.ConsoleRejectReviewVariables>(/* GraphQL */ `
  mutation ConsoleRejectReview($input: DecideAppReviewInput!) { rejectAppReview(input: $input) { id status decidedAt decisionReason app { ${APP_STATE} } } }
`);

export const APP_HEADER = operation<G.ConsoleAppHeaderResult, G.ConsoleAppHeaderVariables>(/* GraphQL */ `
  query ConsoleAppHeader($key: String!) {
    app(key: $key) { key name status developer { id name companyName } }
  }
`);

export const APP_OVERVIEW = operation<G.ConsoleAppOverviewResult, G.ConsoleAppOverviewVariables>(/* GraphQL */ `
  query ConsoleAppOverview($key: String!) {
    app(key: $key) {
      key name description status createdAt redirectUris ipAllowList signatureRequired
      developer { id name email companyName verificationStatus disabledAt }
      statusHistory { from to reason at actor }
      reviews { id status notes submittedAt decidedAt decisionReason }
    }
  }
`);

export const APP_ACTIONS = operation<G.ConsoleAppActionsResult, G.ConsoleAppActionsVariables>(/* GraphQL */ `
  query ConsoleAppActions($key: String!) {
    app(key: $key) {
      key name status
      violations { id kind note evidence penalty flowLimitPercent penaltyEndsAt penaltyActive recordedAt recordedBy }
    }
  }
`);

export const SET_APP_STATUS = operation<G.ConsoleSetAppStatusResult, G.ConsoleSetAppStatusVariables>(/* GraphQL */ `
  mutation ConsoleSetAppStatus($input: SetAppStatusInput!) { setAppStatus(input: $input) { ${APP_STATE} } }
`);
export const REINSTATE_APP = operation<G.ConsoleReinstateAppResult, G.ConsoleReinstateAppVariables>(/* GraphQL */ `
  mutation ConsoleReinstateApp($input: ReinstateAppInput!) { reinstateApp(input: $input) { ${APP_STATE} } }
`);
export const RECORD_VIOLATION = operation<G.ConsoleRecordViolationResult, G.ConsoleRecordViolationVariables>(/* GraphQL */ `
  mutation ConsoleRecordViolation($input: RecordAppViolationInput!) { recordAppViolation(input: $input) { id penalty penaltyActive } }
`);
export const LIFT_PENALTY = operation<G.ConsoleLiftPenaltyResult, G.ConsoleLiftPenaltyVariables>(/* GraphQL */ `
  mutation ConsoleLiftPenalty($input: LiftViolationPenaltyInput!) { liftViolationPenalty(input: $input) { id penaltyActive penaltyEndsAt } }
`);

export const APP_LIMITS = operation<G.ConsoleAppLimitsResult, G.ConsoleAppLimitsVariables>(/* GraphQL */ `
  query ConsoleAppLimits($key: String!) {
    app(key: $key) {
      key signatureRequired signingPublicKey
      usage { tier bucketSize restoreRate flowLimitPercent dailyQuota callsToday resetsAt }
      flowLimitOverrides { bucketSize restoreRate dailyQuota }
    }
    tierLimits { tier bucketSize restoreRate dailyQuota }
  }
`);
export const SET_FLOW_LIMITS = operation<G.ConsoleSetFlowLimitsResult, G.ConsoleSetFlowLimitsVariables>(/* GraphQL */ `
  mutation ConsoleSetFlowLimits($input: SetAppFlowLimitsInput!) { setAppFlowLimits(input: $input) { key flowLimitOverrides { bucketSize restoreRate dailyQuota } } }
`);
export const SET_SIGNATURE_REQUIRED = operation<G.ConsoleSetSignatureRequiredResult, G.ConsoleSetSignatureRequiredVariables>(/* GraphQL */ `
  mutation ConsoleSetSignatureRequired($input: SetAppSignatureRequiredInput!) { setAppSignatureRequired(input: $input) { ${APP_STATE} } }
`);
export const ROTATE_MESSAGE_KEY = operation<G.ConsoleRotateMessageKeyResult, G.ConsoleRotateMessageKeyVariables>(/* GraphQL */ `
  mutation ConsoleRotateMessageKey($appKey: String!, $reason: String) { rotateMessageKey(appKey: $appKey, reason: $reason) { appKey version } }
`);

export const APP_PACKAGES = operation<G.ConsoleAppPackagesResult, G.ConsoleAppPackagesVariables>(/* GraphQL */ `
  query ConsoleAppPackages($key: String!) {
    app(key: $key) {
      key grantedScopes
      grantedPackages { id grantedAt reason revokedAt revokeReason package { id name tier description } }
      packageRequests { id status message createdAt decidedAt decisionReason package { id name tier } }
    }
    permissionPackages { id name tier description }
  }
`);
export const GRANT_PACKAGE = operation<G.ConsoleGrantPackageResult, G.ConsoleGrantPackageVariables>(/* GraphQL */ `
  mutation ConsoleGrantPackage($input: PackageGrantInput!) { grantPermissionPackage(input: $input) { id grantedAt package { id name } } }
`);
export const REVOKE_PACKAGE = operation<G.ConsoleRevokePackageResult, G.ConsoleRevokePackageVariables>(/* GraphQL */ `
  mutation ConsoleRevokePackage($input: PackageGrantInput!) { revokePermissionPackage(input: $input) { id revokedAt package { id name } } }
`);

export const APP_AUTHORIZATIONS = operation<G.ConsoleAppAuthorizationsResult, G.ConsoleAppAuthorizationsVariables>(/* GraphQL */ `
  query ConsoleAppAuthorizations($key: String!) {
    app(key: $key) {
      key
      authorizations(first: 200) { id merchantId merchantName scopes authorizedAt revokedAt revokedBy lastUsedAt }
    }
  }
`);

export const APP_CALLS = operation<G.ConsoleAppCallsResult, G.ConsoleAppCallsVariables>(/* GraphQL */ `
  query ConsoleAppCalls($key: String!, $from: DateTime!, $to: DateTime!, $granularity: CallReportGranularity!) {
    app(key: $key) {
      key
      callReport(from: $from, to: $to, granularity: $granularity) {
        total { calls errors errorRate latency { p50 p95 } actualCost errorsByCode { code calls } }
        periods { start stats { calls errors latency { p95 } } }
        operations(first: 20) { operationName documentHash stats { calls errors errorRate latency { p95 } } }
      }
    }
  }
`);
