/**
 * What the message channel carries: three topics, each fed by one subgraph's outbox, each behind
 * its own scope, and the one rule of which topics a caller may receive. The GraphQL enum value of
 * an event type is derived from its outbox name (`order.refund_requested` → REFUND_REQUESTED,
 * `stock.changed` → STOCK_CHANGED).
 */
import { ErrorCode, PorticoError } from '../core/errors.js';

export type MessageSource = 'order' | 'product' | 'account';
export type MessageTopic = 'ORDERS' | 'PRODUCTS' | 'ACCOUNTS';

export interface TopicDefinition {
  topic: MessageTopic;
  /** The subgraph (and Postgres schema) whose outbox feeds the topic. */
  source: MessageSource;
  schema: string;
  scope: string;
  /** Outbox event types the topic publishes (others stay internal to the platform). */
  eventTypes: readonly string[];
  /** The event type of the GraphQL API (OrderEvent...) and its enum of types. */
  graphqlType: string;
}

export const TOPICS: readonly TopicDefinition[] = [
  {
    topic: 'ORDERS',
    source: 'order',
    schema: 'order',
    scope: 'messages:orders',
    eventTypes: [
      'order.created',
      'order.paid',
      'order.shipped',
      'order.delivered',
      'order.completed',
      'order.cancelled',
      'order.refund_requested',
      'order.refunded',
      'order.shipment_created',
      'order.shipment_updated',
      'order.after_sale_opened',
      'order.after_sale_approved',
      'order.after_sale_rejected',
      'order.return_shipped',
      'order.return_received',
      'order.after_sale_closed',
    ],
    graphqlType: 'OrderEvent',
  },
  {
    topic: 'PRODUCTS',
    source: 'product',
    schema: 'product',
    scope: 'messages:products',
    eventTypes: ['product.created', 'product.updated', 'product.status_changed', 'stock.changed'],
    graphqlType: 'ProductEvent',
  },
  {
    topic: 'ACCOUNTS',
    source: 'account',
    schema: 'account',
    scope: 'messages:accounts',
    // Authorization revocations concern one app only and end its subscriptions; they are not broadcast.
    eventTypes: ['merchant.registered', 'user.merged'],
    graphqlType: 'AccountEvent',
  },
];

export const SOURCES: readonly MessageSource[] = TOPICS.map((t) => t.source);
export const topicOf = (topic: MessageTopic): TopicDefinition => TOPICS.find((t) => t.topic === topic)!;
export const topicOfSource = (source: MessageSource): TopicDefinition => TOPICS.find((t) => t.source === source)!;
export const topicOfSchema = (schema: string): TopicDefinition | undefined => TOPICS.find((t) => t.schema === schema);

/** The published event types of a source a stream receives: all of them, or those of its `types` filter. */
export const publishedTypes = (source: MessageSource, types?: readonly string[] | null): readonly string[] => {
  const all = topicOfSource(source).eventTypes;
  return types ? all.filter((t) => types.includes(t)) : all;
};

const enumValueOfType = (eventType: string): string => eventType.replace(/^(order|product|merchant|user)\./, (_match, prefix: string) => (prefix === 'product' || prefix === 'merchant' || prefix === 'user' ? `${prefix}_` : '')).replace(/\./g, '_').toUpperCase();

const enumValues = new Map(TOPICS.flatMap((t) => t.eventTypes.map((type) => [type, enumValueOfType(type)] as const)));
/** `order.refund_requested` → `REFUND_REQUESTED` (computed once per published type: every pushed message asks). */
export const enumValueOf = (eventType: string): string => enumValues.get(eventType) ?? enumValueOfType(eventType);

/** The outbox type of an enum value within a topic, or undefined. */
export function eventTypeOf(topic: TopicDefinition, enumValue: string): string | undefined {
  return topic.eventTypes.find((t) => enumValueOf(t) === enumValue);
}

/** The rule: a caller receives a topic's messages while it holds the topic's scope. */
export const mayReceive = (scopes: readonly string[], topic: TopicDefinition): boolean => scopes.includes(topic.scope);

/**
 * The topics a caller holding `scopes` may receive: the ones asked for, each of which needs its
 * scope, or, when none are named, every topic whose scope it holds. Throws FORBIDDEN, with the
 * scopes that would grant what is missing. Subscriptions, acknowledgements, resets, manual pushes
 * and record listings all ask this.
 */
export function allowedTopics(scopes: readonly string[], asked?: readonly MessageTopic[] | null): TopicDefinition[] {
  if (!asked) {
    const held = TOPICS.filter((t) => mayReceive(scopes, t));
    if (!held.length) throw new PorticoError(ErrorCode.FORBIDDEN, `Messages need one of the scopes ${TOPICS.map((t) => t.scope).join(', ')}`, { requiredScopes: TOPICS.map((t) => [t.scope]) });
    return held;
  }
  const topics = [...new Set(asked)].map(topicOf);
  const missing = topics.filter((t) => !mayReceive(scopes, t));
  if (missing.length) throw new PorticoError(ErrorCode.FORBIDDEN, `${missing.map((t) => t.topic).join(', ')} need${missing.length === 1 ? 's' : ''} ${missing.map((t) => t.scope).join(', ')}`, { requiredScopes: missing.map((t) => [t.scope]) });
  return topics;
}
