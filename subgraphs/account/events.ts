/**
 * Domain events of the account subgraph: `merchant.registered` (written by the store). Buyer
 * identity events (user merges) come with the identity work.
 */
export const ACCOUNT_EVENT_TYPES = ['merchant.registered'] as const;
