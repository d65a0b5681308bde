/**
 * The GraphQL operations of the apps pages (the app-management subgraph's developer operations). The
 * types of their answers and variables are generated from these documents and the schema
 * (web/scripts/operation-types.ts into web/src/generated/operations.ts): regenerate after changing one.
 */
import { operation } from '../../lib';
import type * as G from '../../generated/operations';

// The shapes the pages use, from the generated answer types (web/scripts/operation-types.ts).
type Of<T> = NonNullable<T>;
export type AppSummary = Of<G.PortalAppsResult['viewerDeveloper']>['apps'][number];
export type AppHeader = Of<G.PortalAppHeaderResult['developerApp']>;
export type AppStatus = AppHeader['status'];
export type AppSettings = Of<G.PortalAppSettingsResult['developerApp']>;
export type AppSandbox = Of<G.PortalAppSandboxResult['developerApp']>['sandbox'];
export type SandboxState = AppSandbox['state'];
export type CreateAppInput = G.PortalCreateAppVariables['input'];
export type AppReview = Of<G.PortalAppReviewsResult['developerApp']>['reviews'][number];
export type AppReviewStatus = AppReview['status'];
export type AppStatusChange = Of<G.PortalAppReviewsResult['developerApp']>['statusHistory'][number];
export type SandboxToken = G.PortalIssueSandboxTokenResult['issueSandboxToken'];
export type PermissionPackage = G.PortalAppPackagesResult['permissionPackages'][number];
export type PackageTier = PermissionPackage['tier'];
export type PackageRequest = Of<G.PortalAppPackagesResult['developerApp']>['packageRequests'][number];
export type PackageRequestStatus = PackageRequest['status'];
export type AppMessageStream = Of<G.PortalAppMessageStreamsResult['developerApp']>['messageStreams'][number];
export type MessageTopicStatus = AppMessageStream['topics'][number];
export type MessageTopic = MessageTopicStatus['topic'];
export type MessageRecord = Of<G.PortalAppMessageRecordsResult['developerApp']>['messageRecords']['nodes'][number];
export type AppUsage = Of<G.PortalAppUsageResult['developerApp']>['usage'];

export const APPS = operation<G.PortalAppsResult, G.PortalAppsVariables>(/* GraphQL */ `
  query PortalApps {
    viewerDeveloper {
      id
      name
      apps { key name description status createdAt sandbox { state } }
    }
  }
`);

export const CREATE_APP = operation<G.PortalCreateAppResult, G.PortalCreateAppVariables>(/* GraphQL */ `
  mutation PortalCreateApp($input: CreateAppInput!) {
    createApp(input: $input) {
      secret
      app { key name status sandbox { merchantId merchantName state error resetAt } }
    }
  }
`);

export const APP_HEADER = operation<G.PortalAppHeaderResult, G.PortalAppHeaderVariables>(/* GraphQL */ `
  query PortalAppHeader($key: String!) {
    developerApp(key: $key) { key name status }
  }
`);

const SETTINGS_FIELDS = 'key name description redirectUris ipAllowList signingPublicKey signatureRequired hmacSigning createdAt';

export const APP_SETTINGS = operation<G.PortalAppSettingsResult, G.PortalAppSettingsVariables>(/* GraphQL */ `
  query PortalAppSettings($key: String!) {
    developerApp(key: $key) { ${SETTINGS_FIELDS} }
  }
`);

export const UPDATE_APP = operation<G.PortalUpdateAppResult, G.PortalUpdateAppVariables>(/* GraphQL */ `
  mutation PortalUpdateApp($input: UpdateAppInput!) {
    updateApp(input: $input) { ${SETTINGS_FIELDS} }
  }
`);

export const SET_IP_ALLOW_LIST = operation<G.PortalSetIpAllowListResult, G.PortalSetIpAllowListVariables>(/* GraphQL */ `
  mutation PortalSetIpAllowList($input: SetIpAllowListInput!) {
    setIpAllowList(input: $input) { key ipAllowList }
  }
`);

export const REGISTER_SIGNING_KEY = operation<G.PortalRegisterSigningKeyResult, G.PortalRegisterSigningKeyVariables>(/* GraphQL */ `
  mutation PortalRegisterSigningKey($appKey: String!, $publicKey: String!) {
    registerSigningKey(appKey: $appKey, publicKey: $publicKey) { key signingPublicKey }
  }
`);

export const ROTATE_SECRET = operation<G.PortalRotateAppSecretResult, G.PortalRotateAppSecretVariables>(/* GraphQL */ `
  mutation PortalRotateAppSecret($appKey: String!, $graceHours: Int!) {
    rotateAppSecret(appKey: $appKey, graceHours: $graceHours) { appKey secret previousSecretExpiresAt }
  }
`);

export const APP_REVIEWS = operation<G.PortalAppReviewsResult, G.PortalAppReviewsVariables>(/* GraphQL */ `
  query PortalAppReviews($key: String!) {
    developerApp(key: $key) {
      key
      status
      reviews { id status notes submittedAt decidedAt decisionReason }
      statusHistory { from to reason at }
    }
  }
`);

export const SUBMIT_FOR_REVIEW = operation<G.PortalSubmitAppForReviewResult, G.PortalSubmitAppForReviewVariables>(/* GraphQL */ `
  mutation PortalSubmitAppForReview($input: SubmitAppForReviewInput!) {
    submitAppForReview(input: $input) { id status notes submittedAt decidedAt decisionReason }
  }
`);

export const APP_SANDBOX = operation<G.PortalAppSandboxResult, G.PortalAppSandboxVariables>(/* GraphQL */ `
  query PortalAppSandbox($key: String!) {
    developerApp(key: $key) {
      key
      status
      authorizeUrl
      grantedScopes
      sandbox { merchantId merchantName state error resetAt }
    }
  }
`);

export const RESET_SANDBOX = operation<G.PortalResetSandboxResult, G.PortalResetSandboxVariables>(/* GraphQL */ `
  mutation PortalResetSandbox($appKey: String!) {
    resetSandbox(appKey: $appKey) { key sandbox { merchantId merchantName state error resetAt } }
  }
`);

export const ISSUE_SANDBOX_TOKEN = operation<G.PortalIssueSandboxTokenResult, G.PortalIssueSandboxTokenVariables>(/* GraphQL */ `
  mutation PortalIssueSandboxToken($appKey: String!) {
    issueSandboxToken(appKey: $appKey) { accessToken expiresAt merchantId scopes }
  }
`);

export const APP_PACKAGES = operation<G.PortalAppPackagesResult, G.PortalAppPackagesVariables>(/* GraphQL */ `
  query PortalAppPackages($key: String!) {
    permissionPackages { id name description tier scopes { name description } }
    developerApp(key: $key) {
      key
      grantedScopes
      grantedPackages { id package { id name } grantedAt revokedAt }
      packageRequests { id package { id name } message status createdAt decidedAt decisionReason }
    }
  }
`);

export const REQUEST_PACKAGE = operation<G.PortalRequestPackageResult, G.PortalRequestPackageVariables>(/* GraphQL */ `
  mutation PortalRequestPackage($input: RequestPermissionPackageInput!) {
    requestPermissionPackage(input: $input) { id package { id name } message status createdAt decidedAt decisionReason }
  }
`);

export const WITHDRAW_PACKAGE_REQUEST = operation<G.PortalWithdrawPackageRequestResult, G.PortalWithdrawPackageRequestVariables>(/* GraphQL */ `
  mutation PortalWithdrawPackageRequest($id: ID!) {
    withdrawPackageRequest(id: $id) { id package { id name } message status createdAt decidedAt decisionReason }
  }
`);

export const APP_MESSAGE_STREAMS = operation<G.PortalAppMessageStreamsResult, G.PortalAppMessageStreamsVariables>(/* GraphQL */ `
  query PortalAppMessageStreams($key: String!) {
    developerApp(key: $key) {
      key
      messageStreams { merchantId merchantName acknowledgedCursor topics { topic subscribable acknowledgedAt pending expired } }
    }
  }
`);

export const APP_MESSAGE_RECORDS = operation<G.PortalAppMessageRecordsResult, G.PortalAppMessageRecordsVariables>(/* GraphQL */ `
  query PortalAppMessageRecords($key: String!, $merchantId: ID!, $unacknowledgedOnly: Boolean, $after: String) {
    developerApp(key: $key) {
      key
      messageRecords(merchantId: $merchantId, unacknowledgedOnly: $unacknowledgedOnly, first: 20, after: $after) {
        nodes { id topic type occurredAt cursor firstPushedAt acknowledgedAt redeliveryPending deliveries { pushedAt transport reason attempt acknowledged } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

export const REDELIVER_MESSAGES = operation<G.PortalRedeliverMessagesResult, G.PortalRedeliverMessagesVariables>(/* GraphQL */ `
  mutation PortalRedeliverMessages($input: RedeliverAppMessagesInput!) {
    redeliverAppMessages(input: $input) { queued unknown }
  }
`);

export const RESET_MESSAGE_CURSOR = operation<G.PortalResetMessageCursorResult, G.PortalResetMessageCursorVariables>(/* GraphQL */ `
  mutation PortalResetMessageCursor($input: ResetAppMessageCursorInput!) {
    resetAppMessageCursor(input: $input) { merchantId merchantName acknowledgedCursor topics { topic subscribable acknowledgedAt pending expired } }
  }
`);

export const APP_USAGE = operation<G.PortalAppUsageResult, G.PortalAppUsageVariables>(/* GraphQL */ `
  query PortalAppUsage($key: String!) {
    developerApp(key: $key) {
      key
      usage { tier bucketSize restoreRate flowLimitPercent dailyQuota callsToday resetsAt }
      violations { id kind note penalty penaltyActive penaltyEndsAt flowLimitPercent }
    }
  }
`);
