/**
 * The message channel's queries and mutations, served by the app-management subgraph (the
 * subscriptions themselves are served by the gateway): acknowledge, manual push, reset push, the
 * stream's status, and the app's records. Everything acts on the calling app's stream of the
 * merchant its token acts for, within the topics its scopes allow.
 */
import { GraphQLError, GraphQLScalarType } from 'graphql';
import type { Caller } from '../../core/caller.js';
import { badInput, forbidden } from '../../core/errors.js';
import { decodeCursor, encodeCursor, isCursorTimestamp, pageSize } from '../../core/pagination.js';
import { InvalidCursorError, type MessageCrypto } from '../crypto.js';
import type { MessageStore } from '../store/index.js';
import { TOPICS, allowedTopics, mayReceive, topicOfSource, type MessageSource, type MessageTopic, type TopicDefinition } from '../topics.js';
import { payloadForApp } from '../user-merged.js';

function streamOf(caller: Caller): { appKey: string; merchantId: string } {
  if (caller.kind !== 'app' || !caller.merchantId) throw forbidden('Messages are per merchant: use a token a merchant authorized for the app');
  return { appKey: caller.appKey, merchantId: caller.merchantId };
}

/** The topics the caller may see (holding their scope), optionally narrowed to those asked for. */
const topicsOf = (caller: Caller, asked?: readonly MessageTopic[] | null): TopicDefinition[] => allowedTopics(caller.scopes, asked);

/** When the merchant authorized the app (the gateway's caller says; a stream never goes back before it). */
const authorizedAtOf = (caller: Caller): Date | null => (caller.authorizedAt ? new Date(caller.authorizedAt) : null);

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: () => {
    throw new GraphQLError('JSON literals are not accepted');
  },
});

export function createMessageResolvers(store: MessageStore, crypto: MessageCrypto) {
  function openCursor(value: unknown, stream: { appKey: string; merchantId: string }, field: string) {
    if (typeof value !== 'string') throw badInput(`${field} must be a MessageCursor`, field);
    try {
      const state = crypto.openCursor(value);
      if (state.appKey !== stream.appKey || state.merchantId !== stream.merchantId) throw badInput('This cursor belongs to another app or merchant', field);
      return state.positions;
    } catch (error) {
      if (error instanceof InvalidCursorError) throw badInput(`${field} is not a valid MessageCursor`, field);
      throw error;
    }
  }

  /** Where the caller's stream may go back to at the earliest: the merchant's authorization of the app. */
  async function floorOf(caller: Caller, sources: readonly MessageSource[]) {
    const stream = streamOf(caller);
    return store.streamFloor(stream.appKey, stream.merchantId, sources, authorizedAtOf(caller));
  }

  async function streamStatus(caller: Caller) {
    const stream = streamOf(caller);
    const rows = await store.cursorRows(stream.appKey, stream.merchantId);
    const acked: Record<string, number> = {};
    for (const t of TOPICS) acked[t.source] = rows.find((r) => r.source === t.source)?.ackedPosition ?? 0;
    // Counting pending events scans the outboxes: only when a client selects `pending`.
    let counts: Promise<Record<string, number>> | undefined;
    const pendingOf = async (source: string) => ((await (counts ??= store.pendingCounts(stream.merchantId, acked)))[source] ?? 0);
    // Whether the retention purge deleted messages after the acknowledged position: only when selected.
    let expired: Promise<MessageSource[]> | undefined;
    const expiredOf = async (source: MessageSource) =>
      (await (expired ??= (async () =>
        store.expiredSources(
          stream.merchantId,
          // A stream with no cursor yet has acknowledged nothing: it will start at the oldest message kept, losing nothing.
          TOPICS.map((t) => t.source).filter((s) => rows.some((r) => r.source === s)),
          acked,
          authorizedAtOf(caller),
        ))())).includes(source);
    return {
      acknowledgedCursor: crypto.sealCursor({ ...stream, positions: acked }),
      topics: TOPICS.map((t) => ({
        topic: t.topic,
        subscribable: mayReceive(caller.scopes, t),
        acknowledgedAt: rows.find((r) => r.source === t.source)?.updatedAt ?? null,
        pending: () => pendingOf(t.source),
        expired: () => expiredOf(t.source),
      })),
    };
  }

  return {
    JSON: JSONScalar,
    MessageCursor: new GraphQLScalarType({ name: 'MessageCursor' }),
    Query: {
      messageStream: (_: unknown, __: unknown, ctx: { caller: Caller }) => streamStatus(ctx.caller),
      messageRecords: async (_: unknown, args: { topics?: MessageTopic[] | null; unacknowledgedOnly?: boolean | null; first?: number | null; after?: string | null }, ctx: { caller: Caller }) => {
        const stream = streamOf(ctx.caller);
        const topics = topicsOf(ctx.caller, args.topics);
        const first = pageSize(args.first);
        let before: { source: string; position: number; firstPushedAt: Date } | null = null;
        if (args.after) {
          const [at, source, position] = decodeCursor(args.after, 'messageRecords', 3);
          if (!isCursorTimestamp(at) || !TOPICS.some((t) => t.source === source) || typeof position !== 'number') throw badInput('after is not a cursor of this list', 'after');
          before = { firstPushedAt: new Date(at), source: source as string, position };
        }
        const page = await store.listRecords(stream.appKey, stream.merchantId, {
          sources: topics.map((t) => t.source),
          first,
          before,
          unacknowledgedOnly: !!args.unacknowledgedOnly,
        });
        const nodes = page.items.map((r) => ({
          id: r.eventId,
          topic: topicOfSource(r.source as MessageSource).topic,
          type: r.type,
          occurredAt: r.occurredAt,
          cursor: crypto.sealCursor({ ...stream, positions: { [r.source]: r.position } }),
          payload: payloadForApp(r.type, r.payload as Record<string, unknown>, stream.appKey),
          firstPushedAt: r.firstPushedAt,
          acknowledgedAt: r.acknowledgedAt,
          redeliveryPending: !!r.redeliverRequestedAt,
          deliveries: r.deliveries.map((d) => ({
            pushedAt: d.pushedAt,
            connectionId: d.connectionId,
            transport: d.transport,
            reason: d.reason,
            attempt: d.attempt,
            acknowledged: !!r.acknowledgedAt,
            pushed: d.pushed,
          })),
          rowCursor: encodeCursor('messageRecords', [r.firstPushedAt.toISOString(), r.source, r.position]),
        }));
        return {
          nodes,
          pageInfo: { hasNextPage: page.hasMore, hasPreviousPage: !!args.after, startCursor: nodes[0]?.rowCursor ?? null, endCursor: nodes.at(-1)?.rowCursor ?? null },
        };
      },
    },
    Mutation: {
      acknowledgeMessages: async (_: unknown, args: { upTo: unknown }, ctx: { caller: Caller }) => {
        const stream = streamOf(ctx.caller);
        const positions = openCursor(args.upTo, stream, 'upTo');
        const allowed = new Set(topicsOf(ctx.caller).map((t) => t.source));
        const upTo = Object.fromEntries(Object.entries(positions).filter(([source]) => allowed.has(source as MessageSource)));
        await store.acknowledge(stream.appKey, stream.merchantId, upTo);
        return streamStatus(ctx.caller);
      },
      redeliverMessages: async (_: unknown, args: { ids: string[] }, ctx: { caller: Caller }) => {
        const stream = streamOf(ctx.caller);
        if (args.ids.length === 0 || args.ids.length > 1000) throw badInput('ids must hold 1 to 1000 message ids', 'ids');
        const sources = topicsOf(ctx.caller).map((t) => t.source);
        const floor = await floorOf(ctx.caller, sources);
        const found = await store.requestRedelivery(stream.appKey, stream.merchantId, sources, args.ids, floor);
        const queued = new Set(found.map((e) => e.id));
        return { queued: args.ids.filter((id) => queued.has(id)), unknown: args.ids.filter((id) => !queued.has(id)) };
      },
      resetMessageCursor: async (_: unknown, args: { to: { cursor?: unknown; time?: Date | string | null; topics?: MessageTopic[] | null } }, ctx: { caller: Caller }) => {
        const stream = streamOf(ctx.caller);
        const { cursor, time } = args.to;
        if ((cursor === null || cursor === undefined) === (time === null || time === undefined)) throw badInput('Give exactly one of cursor and time', 'to');
        const topics = topicsOf(ctx.caller, args.to.topics);
        const to: Record<string, number> = {};
        if (cursor !== null && cursor !== undefined) {
          const positions = openCursor(cursor, stream, 'to.cursor');
          for (const t of topics) if (positions[t.source] !== undefined) to[t.source] = positions[t.source]!;
          if (!Object.keys(to).length) throw badInput('The cursor has no position for the topics to reset', 'to.cursor');
        } else {
          const at = time instanceof Date ? time : new Date(String(time));
          if (Number.isNaN(at.getTime())) throw badInput('to.time is not a date', 'to.time');
          for (const t of topics) to[t.source] = await store.positionBefore(stream.merchantId, t.source, at);
        }
        // Never before the merchant authorized the app: a cursor or time from before replays from there.
        const floor = await floorOf(ctx.caller, Object.keys(to) as MessageSource[]);
        // Nor into what the retention purge deleted: the stream goes on from the oldest message kept.
        const purged = await store.purgedThrough(stream.merchantId, Object.keys(to) as MessageSource[]);
        for (const source of Object.keys(to) as MessageSource[]) to[source] = Math.max(to[source]!, floor[source], purged[source]?.position ?? 0);
        await store.resetCursors(stream.appKey, stream.merchantId, to);
        return streamStatus(ctx.caller);
      },
    },
  };
}
