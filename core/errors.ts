/**
 * Errors clients may see. Every error a client receives carries a stable `extensions.code`;
 * anything unexpected is masked to INTERNAL_SERVER_ERROR so no stack, SQL or internal address leaks.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  CONFLICT: 'CONFLICT',
  /** The platform could not do it just now, through no fault of the request; `retryable: true` says to try again. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** A message stream's unacknowledged messages passed the retention window and were deleted: reset its cursor to go on. */
  MESSAGES_EXPIRED: 'MESSAGES_EXPIRED',
  /** A request's RFC 9421 signature failed a check, or an app that requires signatures sent none (HTTP 401; the message says which). */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  /** The app's IP allow list does not admit the address the call came from (HTTP 403). */
  IP_NOT_ALLOWED: 'IP_NOT_ALLOWED',
  /** The app is suspended by an operator: every call is refused until it is reinstated (HTTP 403). */
  APP_SUSPENDED: 'APP_SUSPENDED',
  /** An operator took this field offline (for every app or for this one): it answers null with the reason. */
  API_OFFLINE: 'API_OFFLINE',
  /** One operation costs more than the app's whole bucket holds: it can never run as it is (HTTP 400). */
  MAX_COST_EXCEEDED: 'MAX_COST_EXCEEDED',
  /** The app's bucket (for this merchant) holds fewer points than the operation costs: retry after Retry-After (HTTP 429). */
  THROTTLED: 'THROTTLED',
  /** The app made its daily quota of calls: it resets at the next UTC midnight (HTTP 429). */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** Too many failed authentications from this address (or for this client): retry after Retry-After (HTTP 429). */
  TOO_MANY_FAILED_ATTEMPTS: 'TOO_MANY_FAILED_ATTEMPTS',
  /** A request with the portal's session cookie lacks the session's CSRF header, or has another (HTTP 403). */
  CSRF_TOKEN_INVALID: 'CSRF_TOKEN_INVALID',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes whose messages are written for clients and pass through as they are. */
const PUBLIC_CODES = new Set<string>([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.NOT_FOUND,
  ErrorCode.FORBIDDEN,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.CONFLICT,
  ErrorCode.SERVICE_UNAVAILABLE,
  ErrorCode.MESSAGES_EXPIRED,
  ErrorCode.SIGNATURE_INVALID,
  ErrorCode.MAX_COST_EXCEEDED,
  ErrorCode.THROTTLED,
  ErrorCode.QUOTA_EXCEEDED,
  ErrorCode.TOO_MANY_FAILED_ATTEMPTS,
  ErrorCode.API_OFFLINE,
  ErrorCode.IP_NOT_ALLOWED,
  ErrorCode.APP_SUSPENDED,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

export class PorticoError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export const badInput = (message: string, field?: string) =>
  new PorticoError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
export const notFound = (what: string, id: string) => new PorticoError(ErrorCode.NOT_FOUND, `${what} ${id} was not found`, { id });
export const forbidden = (message: string, extensions: Record<string, unknown> = {}) =>
  new PorticoError(ErrorCode.FORBIDDEN, message, extensions);
export const conflict = (message: string, extensions: Record<string, unknown> = {}) =>
  new PorticoError(ErrorCode.CONFLICT, message, extensions);
export const unauthenticated = (message: string) => new PorticoError(ErrorCode.UNAUTHENTICATED, message);

/**
 * PostgreSQL's data exceptions a client's value causes (text holding NUL, a value out of range, a
 * string that is not a valid uuid or timestamp where one is cast): input no check caught before the
 * database, so BAD_USER_INPUT (the statement failed, so nothing was written), not an internal error.
 */
const INPUT_SQLSTATES = new Set(['22021', '22P05', '22P02', '22001', '22003', '22007', '22008']);
function sqlStateOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * graphql-js ends a validation or coercion message with its guesses ("Did you mean "key"?", "Did
 * you mean the enum value "PAID"?"): names of the schema, handed to anyone with a token who probes
 * with near misses. Outside development they are cut off, wherever the error was raised (the
 * gateway's validation, the message channel's, variables).
 */
export const withoutSuggestions = (message: string): string => message.replace(/\s*Did you mean\b[\s\S]*$/, '');

/**
 * Apollo `formatError`: keeps errors with a public code, masks the rest. In development the original
 * message and stack stay visible to help whoever runs the platform locally.
 */
export function createErrorFormatter(options: { development: boolean; onInternalError?: (error: unknown) => void }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PUBLIC_CODES.has(code)) {
      if (options.development) return formatted;
      // serviceName and response are how the gateway describes the subgraph an error came from: internal.
      const { stacktrace: _stack, exception: _exception, serviceName: _service, response: _response, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, message: withoutSuggestions(formatted.message), extensions };
    }
    options.onInternalError?.(error);
    if (options.development) return formatted;
    const state = sqlStateOf(error);
    if (state && INPUT_SQLSTATES.has(state)) {
      return {
        message: 'A value in the request cannot be stored (a control character, or a value out of range or in the wrong form)',
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    return {
      message: 'Internal server error',
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
