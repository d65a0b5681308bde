/**
 * Domain events of the account subgraph, written by the store: `merchant.registered`,
 * `authorization.revoked` (not published to apps), and `user.merged` (recordUserMerge, for the
 * identity work's merges).
 */
export const ACCOUNT_EVENT_TYPES = ['merchant.registered', 'authorization.revoked', 'user.merged'] as const;
