/** Domain events of the app-management subgraph, written by its store with the change they record. */
export const APP_MANAGEMENT_EVENT_TYPES = ['app.registered', 'app.status_changed'] as const;
