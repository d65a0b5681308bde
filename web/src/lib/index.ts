/** What every page of the portal uses: the GraphQL client, the session, the frame and its states. */
export { graphql, graphqlFetch, operation, describeGraphQLError, GraphQLError, type Operation, type GraphQLRequestOptions } from './graphql';
export { useOperation, useMutation, type OperationState, type MutationState } from './use-operation';
export { authApi, AuthError, describeAuthError, type Session, type SessionDeveloper, type DeveloperKind } from './auth-api';
export { formatDateTime, formatNumber } from './format';
export { SecretOnce, CopyValue, CopyableCode } from './secret';
export { csrfToken, CSRF_HEADER } from './csrf';
export { SessionProvider, useSession, RequireSession, PageLoader } from './session';
export { PortalLayout, PublicLayout, PageHeader, ErrorAlert, EmptyState, QueryState, Logo, Brand, PLATFORM_NAME, NAVIGATION, useDocumentTitle } from './layout';
