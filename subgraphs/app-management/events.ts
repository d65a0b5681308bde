/**
 * Domain events of the app-management subgraph: `app.registered` (written by the store). Package
 * grants and app status changes add theirs with the permission work.
 */
export const APP_MANAGEMENT_EVENT_TYPES = ['app.registered'] as const;
