/**
 * The GraphQL operations of the apps pages (the app-management subgraph's developer operations), each
 * with the shape of its answer. The names and fields are the public schema's (schema/app-management.graphql).
 */
import { operation } from '../../lib';

export type AppStatus = 'SANDBOX' | 'LIVE' | 'SUSPENDED';
export type SandboxState = 'NONE' | 'PROVISIONING' | 'READY' | 'FAILED';
export type AppReviewStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'WITHDRAWN';
export type PackageRequestStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'WITHDRAWN';
export type PackageTier = 'FREE' | 'PAID';
export type MessageTopic = 'ORDERS' | 'PRODUCTS' | 'ACCOUNTS';

export interface AppSandbox {
  merchantId: string | null;
  merchantName: string | null;
  state: SandboxState;
  error: string | null;
  resetAt: string | null;
}

export interface AppSummary {
  key: string;
  name: string;
  description: string;
  status: AppStatus;
  createdAt: string;
  sandbox: { state: SandboxState };
}

export const APPS = operation<{ viewerDeveloper: { id: string; name: string; apps: AppSummary[] } | null }>(/* GraphQL */ `
  query PortalApps {
    viewerDeveloper {
      id
      name
      apps { key name description status createdAt sandbox { state } }
    }
  }
`);

export interface CreateAppInput {
  name: string;
  description?: string;
  redirectUris?: string[];
  ipAllowList?: string[];
  signingPublicKey?: string;
}

export const CREATE_APP = operation<{ createApp: { secret: string; app: { key: string; name: string; status: AppStatus; sandbox: AppSandbox } } }, { input: CreateAppInput }>(/* GraphQL */ `
  mutation PortalCreateApp($input: CreateAppInput!) {
    createApp(input: $input) {
      secret
      app { key name status sandbox { merchantId merchantName state error resetAt } }
    }
  }
`);

export interface AppHeader {
  key: string;
  name: string;
  status: AppStatus;
}

export const APP_HEADER = operation<{ developerApp: AppHeader | null }, { key: string }>(/* GraphQL */ `
  query PortalAppHeader($key: String!) {
    developerApp(key: $key) { key name status }
  }
`);

export interface AppSettings {
  key: string;
  name: string;
  description: string;
  redirectUris: string[];
  ipAllowList: string[];
  signingPublicKey: string | null;
  signatureRequired: boolean;
  hmacSigning: boolean;
  createdAt: string;
}

const SETTINGS_FIELDS = 'key name description redirectUris ipAllowList signingPublicKey signatureRequired hmacSigning createdAt';

export const APP_SETTINGS = operation<{ developerApp: AppSettings | null }, { key: string }>(/* GraphQL */ `
  query PortalAppSettings($key: String!) {
    developerApp(key: $key) { ${SETTINGS_FIELDS} }
  }
`);

export const UPDATE_APP = operation<{ updateApp: AppSettings }, { input: { appKey: string; name?: string; description?: string; redirectUris?: string[] } }>(/* GraphQL */ `
  mutation PortalUpdateApp($input: UpdateAppInput!) {
    updateApp(input: $input) { ${SETTINGS_FIELDS} }
  }
`);

export const SET_IP_ALLOW_LIST = operation<{ setIpAllowList: { key: string; ipAllowList: string[] } }, { input: { appKey: string; entries: string[] } }>(/* GraphQL */ `
  mutation PortalSetIpAllowList($input: SetIpAllowListInput!) {
    setIpAllowList(input: $input) { key ipAllowList }
  }
`);

export const REGISTER_SIGNING_KEY = operation<{ registerSigningKey: { key: string; signingPublicKey: string | null } }, { appKey: string; publicKey: string }>(/* GraphQL */ `
  mutation PortalRegisterSigningKey($appKey: String!, $publicKey: String!) {
    registerSigningKey(appKey: $appKey, publicKey: $publicKey) { key signingPublicKey }
  }
`);

export const ROTATE_SECRET = operation<{ rotateAppSecret: { appKey: string; secret: string; previousSecretExpiresAt: string | null } }, { appKey: string; graceHours: number }>(/* GraphQL */ `
  mutation PortalRotateAppSecret($appKey: String!, $graceHours: Int!) {
    rotateAppSecret(appKey: $appKey, graceHours: $graceHours) { appKey secret previousSecretExpiresAt }
  }
`);

export interface AppReview {
  id: string;
  status: AppReviewStatus;
  notes: string;
  submittedAt: string;
  decidedAt: string | null;
  decisionReason: string | null;
}

export interface AppStatusChange {
  from: AppStatus;
  to: AppStatus;
  reason: string;
  at: string;
}

export const APP_REVIEWS = operation<{ developerApp: { key: string; status: AppStatus; reviews: AppReview[]; statusHistory: AppStatusChange[] } | null }, { key: string }>(/* GraphQL */ `
  query PortalAppReviews($key: String!) {
    developerApp(key: $key) {
      key
      status
      reviews { id status notes submittedAt decidedAt decisionReason }
      statusHistory { from to reason at }
    }
  }
`);

export const SUBMIT_FOR_REVIEW = operation<{ submitAppForReview: AppReview }, { input: { appKey: string; notes?: string } }>(/* GraphQL */ `
  mutation PortalSubmitAppForReview($input: SubmitAppForReviewInput!) {
    submitAppForReview(input: $input) { id status notes submittedAt decidedAt decisionReason }
  }
`);

export const APP_SANDBOX = operation<{ developerApp: { key: string; status: AppStatus; authorizeUrl: string | null; grantedScopes: string[]; sandbox: AppSandbox } | null }, { key: string }>(/* GraphQL */ `
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

export const RESET_SANDBOX = operation<{ resetSandbox: { key: string; sandbox: AppSandbox } }, { appKey: string }>(/* GraphQL */ `
  mutation PortalResetSandbox($appKey: String!) {
    resetSandbox(appKey: $appKey) { key sandbox { merchantId merchantName state error resetAt } }
  }
`);

export interface SandboxToken {
  accessToken: string;
  expiresAt: string;
  merchantId: string;
  scopes: string[];
}

export const ISSUE_SANDBOX_TOKEN = operation<{ issueSandboxToken: SandboxToken }, { appKey: string }>(/* GraphQL */ `
  mutation PortalIssueSandboxToken($appKey: String!) {
    issueSandboxToken(appKey: $appKey) { accessToken expiresAt merchantId scopes }
  }
`);

export interface PermissionPackage {
  id: string;
  name: string;
  description: string;
  tier: PackageTier;
  scopes: { name: string; description: string }[];
}

export interface PackageRequest {
  id: string;
  package: { id: string; name: string };
  message: string | null;
  status: PackageRequestStatus;
  createdAt: string;
  decidedAt: string | null;
  decisionReason: string | null;
}

export const APP_PACKAGES = operation<
  {
    permissionPackages: PermissionPackage[];
    developerApp: {
      key: string;
      grantedScopes: string[];
      grantedPackages: { id: string; package: { id: string; name: string }; grantedAt: string; revokedAt: string | null }[];
      packageRequests: PackageRequest[];
    } | null;
  },
  { key: string }
>(/* GraphQL */ `
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

export const REQUEST_PACKAGE = operation<{ requestPermissionPackage: PackageRequest }, { input: { appKey: string; packageId: string; message?: string } }>(/* GraphQL */ `
  mutation PortalRequestPackage($input: RequestPermissionPackageInput!) {
    requestPermissionPackage(input: $input) { id package { id name } message status createdAt decidedAt decisionReason }
  }
`);

export const WITHDRAW_PACKAGE_REQUEST = operation<{ withdrawPackageRequest: PackageRequest }, { id: string }>(/* GraphQL */ `
  mutation PortalWithdrawPackageRequest($id: ID!) {
    withdrawPackageRequest(id: $id) { id package { id name } message status createdAt decidedAt decisionReason }
  }
`);

export interface MessageTopicStatus {
  topic: MessageTopic;
  subscribable: boolean;
  acknowledgedAt: string | null;
  pending: number;
  expired: boolean;
}

export interface AppMessageStream {
  merchantId: string;
  merchantName: string | null;
  acknowledgedCursor: string;
  topics: MessageTopicStatus[];
}

export const APP_MESSAGE_STREAMS = operation<{ developerApp: { key: string; messageStreams: AppMessageStream[] } | null }, { key: string }>(/* GraphQL */ `
  query PortalAppMessageStreams($key: String!) {
    developerApp(key: $key) {
      key
      messageStreams { merchantId merchantName acknowledgedCursor topics { topic subscribable acknowledgedAt pending expired } }
    }
  }
`);

export interface MessageRecord {
  id: string;
  topic: MessageTopic;
  type: string;
  occurredAt: string;
  cursor: string;
  firstPushedAt: string;
  acknowledgedAt: string | null;
  redeliveryPending: boolean;
  deliveries: { pushedAt: string; transport: string; reason: string; attempt: number; acknowledged: boolean }[];
}

export const APP_MESSAGE_RECORDS = operation<
  { developerApp: { key: string; messageRecords: { nodes: MessageRecord[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } | null },
  { key: string; merchantId: string; unacknowledgedOnly: boolean; after?: string | null }
>(/* GraphQL */ `
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

export const REDELIVER_MESSAGES = operation<{ redeliverAppMessages: { queued: string[]; unknown: string[] } }, { input: { appKey: string; merchantId: string; ids: string[] } }>(/* GraphQL */ `
  mutation PortalRedeliverMessages($input: RedeliverAppMessagesInput!) {
    redeliverAppMessages(input: $input) { queued unknown }
  }
`);

export const RESET_MESSAGE_CURSOR = operation<
  { resetAppMessageCursor: AppMessageStream },
  { input: { appKey: string; merchantId: string; to: { cursor?: string; time?: string; topics?: MessageTopic[] } } }
>(/* GraphQL */ `
  mutation PortalResetMessageCursor($input: ResetAppMessageCursorInput!) {
    resetAppMessageCursor(input: $input) { merchantId merchantName acknowledgedCursor topics { topic subscribable acknowledgedAt pending expired } }
  }
`);

export interface AppUsage {
  tier: PackageTier;
  bucketSize: number;
  restoreRate: number;
  flowLimitPercent: number | null;
  dailyQuota: number;
  callsToday: number | null;
  resetsAt: string;
}

export const APP_USAGE = operation<
  { developerApp: { key: string; usage: AppUsage; violations: { id: string; kind: string; note: string; penalty: string; penaltyActive: boolean; penaltyEndsAt: string | null; flowLimitPercent: number | null }[] } | null },
  { key: string }
>(/* GraphQL */ `
  query PortalAppUsage($key: String!) {
    developerApp(key: $key) {
      key
      usage { tier bucketSize restoreRate flowLimitPercent dailyQuota callsToday resetsAt }
      violations { id kind note penalty penaltyActive penaltyEndsAt flowLimitPercent }
    }
  }
`);
