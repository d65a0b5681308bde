/**
 * The portal's GraphQL client: the platform's own public /graphql, with the developer's session
 * cookie and the CSRF header (no private back door). An answer with errors throws a GraphQLError
 * whose `code` is the error's stable `extensions.code`.
 */
import { CSRF_HEADER, csrfToken } from './csrf';

/** Dispatched on window when the platform answers that the portal session is gone. */
export const SESSION_ENDED_EVENT = 'portico:session-ended';

export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

export class GraphQLError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errors: GraphQLErrorEntry[],
    readonly status: number,
  ) {
    super(message);
    this.name = 'GraphQLError';
  }
}

export interface GraphQLRequestOptions {
  /** Replaces the session: an app's token (the explorer's sandbox token). An Authorization header wins over the cookie. */
  accessToken?: string;
  signal?: AbortSignal;
}

/** One GraphQL operation against /graphql; the whole JSON answer (data and errors) as the server sent it. */
export async function graphqlFetch(body: { query: string; variables?: Record<string, unknown> | undefined; operationName?: string | undefined }, options: GraphQLRequestOptions = {}): Promise<{ status: number; json: { data?: unknown; errors?: GraphQLErrorEntry[]; extensions?: unknown } }> {
  const token = csrfToken();
  const response = await fetch('/graphql', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(options.accessToken ? { authorization: `Bearer ${options.accessToken}` } : token ? { [CSRF_HEADER]: token } : {}),
    },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) };
  } catch {
    return { status: response.status, json: { errors: [{ message: `The platform answered ${response.status}`, extensions: { code: `HTTP_${response.status}` } }] } };
  }
}

/** A typed operation: its document and, only for the type checker, its result and variables. */
export type Operation<TData, TVariables extends Record<string, unknown> | undefined = undefined> = string & {
  readonly __data?: TData;
  readonly __variables?: TVariables;
};

/** Declares an operation's document with its result and variables types. */
export const operation = <TData, TVariables extends Record<string, unknown> | undefined = undefined>(document: string) =>
  document as Operation<TData, TVariables>;

/** Runs an operation as the signed-in developer and returns its data, or throws a GraphQLError. */
export async function graphql<TData, TVariables extends Record<string, unknown> | undefined>(
  document: Operation<TData, TVariables>,
  ...[variables, options]: TVariables extends undefined ? [undefined?, GraphQLRequestOptions?] : [TVariables, GraphQLRequestOptions?]
): Promise<TData> {
  const { status, json } = await graphqlFetch({ query: document, variables: variables as Record<string, unknown> | undefined }, options);
  if (json.errors?.length) {
    const first = json.errors[0]!;
    const code = first.extensions?.code ?? 'UNKNOWN';
    // The session ended (signed out elsewhere, a password reset, expiry): the frame sends the developer to sign in.
    if (!options?.accessToken && (code === 'UNAUTHENTICATED' || code === 'CSRF_TOKEN_INVALID')) window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
    throw new GraphQLError(first.message, code, json.errors, status);
  }
  if (json.data === undefined || json.data === null) throw new GraphQLError(`The platform answered ${status} without data`, `HTTP_${status}`, [], status);
  return json.data as TData;
}

/** What a person reads for a GraphQL error. */
export function describeGraphQLError(error: unknown): string {
  if (error instanceof GraphQLError) {
    switch (error.code) {
      case 'UNAUTHENTICATED':
      case 'CSRF_TOKEN_INVALID':
        return 'Your session has ended. Sign in again.';
      case 'FORBIDDEN':
        return 'You are not allowed to do that.';
      case 'NOT_FOUND':
        return 'Not found: it does not exist or is not yours.';
      case 'BAD_USER_INPUT':
      case 'GRAPHQL_VALIDATION_FAILED':
        return error.message;
      default:
        return `${error.message} (${error.code})`;
    }
  }
  if (error instanceof DOMException && error.name === 'AbortError') return 'Cancelled.';
  return 'The portal could not reach the platform. Check your connection and try again.';
}
