/** What every page of the portal (and of the console and merchant page) uses: the GraphQL client, the session, the frame and its states. */
export { graphql, graphqlFetch, operation, describeGraphQLError, GraphQLError, type Operation, type GraphQLRequestOptions } from './graphql';
export { useOperation, useMutation, type OperationState, type MutationState } from './use-operation';
export { authApi, describeAuthError, type Session, type SessionDeveloper, type DeveloperKind } from './auth-api';
export { AuthError, authEndpoints, readSession } from './auth-call';
export { frontEnd, startFrontEnd, PORTAL, CONSOLE, MERCHANT, type FrontEnd } from './front-end';
export { formatDateTime, formatNumber } from './format';
export { Stat } from './stat';
export { SecretOnce, CopyValue, CopyableCode } from './secret';
export { csrfToken, CSRF_HEADER } from './csrf';
export { SessionProvider, useSession, RequireSession, PageLoader, createSession, type SessionSource, type SessionState } from './session';
export { PortalLayout, PublicLayout, PageHeader, ErrorAlert, EmptyState, QueryState, Logo, Brand, PLATFORM_NAME, NAVIGATION, useDocumentTitle } from './layout';
