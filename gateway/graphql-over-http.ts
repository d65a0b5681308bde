/**
 * The status of a request error's answer, as the GraphQL-over-HTTP specification asks it.
 *
 * A document that does not parse or validate, or variables that do not coerce, is a well-formed
 * GraphQL-over-HTTP request that GraphQL refused before execution. Apollo Server answers it 400
 * whatever the client accepts. The specification:
 * - `application/graphql-response+json`: 400 (Apollo's answer, kept);
 * - `application/json` (the legacy media type, and what a request without Accept gets): 200, because
 *   a client cannot tell a 4xx of an intermediary from the server's own answer in that media type.
 * Requests that are not well formed (a body that is not JSON, no `query`, a `query` that is not a
 * string) stay 400 in both.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './plugins/types.js';

/** The codes of errors GraphQL raises before execution for a well-formed request. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
const APPLICATION_JSON = 'application/json';

interface AcceptEntry {
  type: string;
  subtype: string;
  q: number;
  order: number;
}

function parseAccept(header: string): AcceptEntry[] {
  const entries: AcceptEntry[] = [];
  header.split(',').forEach((part, order) => {
    const [range, ...params] = part.trim().split(';');
    const [type, subtype] = (range ?? '').trim().toLowerCase().split('/');
    if (!type || !subtype) return;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.trim().split('=');
      if (name?.trim().toLowerCase() === 'q') q = Number(value) || 0;
    }
    entries.push({ type, subtype, q, order });
  });
  return entries;
}

/** How well an Accept header takes a media type: its q and how specifically it was named (as Negotiator, which Apollo uses, ranks). */
function acceptance(entries: AcceptEntry[], mediaType: string): { q: number; specificity: number; order: number } | null {
  const [type, subtype] = mediaType.split('/');
  let best: { q: number; specificity: number; order: number } | null = null;
  for (const entry of entries) {
    const specificity = entry.type === type && entry.subtype === subtype ? 2 : entry.type === type && entry.subtype === '*' ? 1 : entry.type === '*' && entry.subtype === '*' ? 0 : -1;
    if (specificity < 0) continue;
    if (!best || specificity > best.specificity || (specificity === best.specificity && entry.q > best.q)) best = { q: entry.q, specificity, order: entry.order };
  }
  return best && best.q > 0 ? best : null;
}

/** Whether Apollo answers in application/graphql-response+json for this Accept header (else application/json). */
export function answersGraphQLResponseJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const entries = parseAccept(accept);
  const json = acceptance(entries, APPLICATION_JSON);
  const graphql = acceptance(entries, GRAPHQL_RESPONSE_JSON);
  if (!graphql) return false;
  if (!json) return true;
  if (graphql.q !== json.q) return graphql.q > json.q;
  if (graphql.specificity !== json.specificity) return graphql.specificity > json.specificity;
  // Equal: the one the client named first; then application/json, Apollo's first choice.
  return graphql.order < json.order;
}

/** Apollo plugin: 200 instead of 400 for a request error answered in application/json. */
export function graphqlOverHttpStatus(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          if (response.http.status !== 400 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if ('data' in result && result.data !== undefined) return;
          const errors = result.errors ?? [];
          if (!errors.length || !errors.every((e) => REQUEST_ERROR_CODES.has(String(e.extensions?.code)))) return;
          if (answersGraphQLResponseJson(request.http?.headers.get('accept'))) return;
          response.http.status = 200;
        },
      };
    },
  };
}
