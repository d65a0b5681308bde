/**
 * The message channel's entity sub-queries, straight to the one subgraph that can answer them.
 *
 * A subscriber's selection of an event's entity (`order { id number status }`) is run as a query,
 * `e0: order(id: $portico_id0) { ... }`. Through the gateway's Apollo pipeline that costs more than
 * delivering the event itself (request pipeline, operation parsing for the plan cache, plan
 * execution, result shaping: about 0.3 ms of the gateway's one core per delivery, measured in the
 * channel burst). When the query plan of such a query is a single fetch from one subgraph, with
 * nothing for the gateway to rewrite, the subgraph's answer is the gateway's answer; so the channel
 * plans each sub-query once here, with the query planner the gateway uses and the same supergraph,
 * and sends it to that subgraph through the gateway's own data source (the caller's context token,
 * shared requests). Selections that span subgraphs (`lines { product { title } }`) keep going
 * through the gateway.
 *
 * Nothing the gateway checks is skipped: the sub-query is built from a subscription document that
 * passed the gateway's validation rules (limits included), and every field is authorized by the
 * subgraph from the caller's context token, as for any query.
 */
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import { OperationTypeNode, parse } from 'graphql';
import { LRUCache } from 'lru-cache';

/** Plans kept by query text: subscribers that select the same fields share one plan. */
const PLANS = 1000;

export interface SingleFetch {
  serviceName: string;
  /** The subgraph operation, as the planner wrote it (aliases kept: the answer's keys are the query's). */
  operation: string;
  operationName: string | undefined;
  /** The variables it uses. */
  variableUsages: readonly string[];
}

/**
 * Plans queries against the supergraph: the single fetch that answers one, or null if it needs more
 * than that. The planner is built on first use (about 0.2 s), not at start: a gateway without
 * subscriptions never needs it. `warm()` builds it ahead (the channel does when its first
 * subscription opens, so that the first events pushed do not wait for it).
 */
export function createSingleFetchPlanner(supergraphSdl: string): ((query: string) => SingleFetch | null) & { warm(): void } {
  let built: { api: ReturnType<Supergraph['apiSchema']>; planner: QueryPlanner } | undefined;
  const build = () => {
    if (!built) {
      const supergraph = Supergraph.build(supergraphSdl);
      built = { api: supergraph.apiSchema(), planner: new QueryPlanner(supergraph) };
    }
    return built;
  };
  // Each subscription's document is its own (every subscriber sends and the gateway parses its
  // own), but most select the same fields: planning once per text, not once per subscriber, keeps
  // the planner (milliseconds a plan) out of a burst's first deliveries.
  const plans = new LRUCache<string, { plan: SingleFetch | null }>({ max: PLANS });
  const plan = (query: string) => {
    const known = plans.get(query);
    if (known) return known.plan;
    const planned = planOnce(query);
    plans.set(query, { plan: planned });
    return planned;
  };
  return Object.assign(plan, { warm: () => void build() });
  function planOnce(query: string): SingleFetch | null {
    const { api, planner } = build();
    const plan = planner.buildQueryPlan(operationFromDocument(api, parse(query)));
    const node = plan.node;
    if (!node || node.kind !== 'Fetch' || node.operationKind !== OperationTypeNode.QUERY) return null;
    // Anything the gateway would do to the fetch's input or output keeps it on the gateway's path.
    if (node.hasDefers || node.requires?.length || node.inputRewrites?.length || node.outputRewrites?.length || node.contextRewrites?.length) return null;
    return { serviceName: node.serviceName, operation: node.operation, operationName: node.operationName, variableUsages: node.variableUsages ?? [] };
  }
}
