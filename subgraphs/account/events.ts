/**
 * Domain events of the account subgraph, written by the store: `merchant.registered`,
 * `authorization.revoked` (not published to apps), and `user.merged` (user-merge.ts: a buyer merged
 * into another, with each app's own identifiers of both).
 */
export const ACCOUNT_EVENT_TYPES = ['merchant.registered', 'authorization.revoked', 'user.merged'] as const;
