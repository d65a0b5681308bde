/**
 * ERP sync: the reference consumer of Portico's order events.
 *
 * It subscribes to `orderEvents` over WebSocket (graphql-ws), applies each event to a local store
 * (a JSON file standing in for the ERP's database), and acknowledges what it applied. An order's
 * whole life arrives this way: placed, paid, each shipment and its tracking, delivered, completed,
 * and after the sale its cases (opened, approved or rejected, the goods shipped back and received,
 * refunded, closed); the store keeps each order's shipments and after-sales cases with it. Delivery is at
 * least once, so it de-duplicates by event id, and the store, the seen ids and the position it has
 * applied up to are written together, atomically, so they never disagree after a crash.
 *
 *   npx tsx examples/erp-sync/index.ts
 *
 * Settings (environment):
 *   PORTICO_URL, PORTICO_TOKEN   the GraphQL URL and an access token with messages:orders, orders:read and
 *                                aftersales:read;
 *                                by default both come from $DATA_DIR/demo.json (DATA_DIR: ./data), which
 *                                `npm start` writes.
 *   ERP_STATE_DIR                where the store lives (default examples/erp-sync/.state).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

// ─── Settings ───────────────────────────────────────────────────────────────────────────────────

const demoFile = path.resolve(process.env.DATA_DIR ?? 'data', 'demo.json');
const stateDir = path.resolve(process.env.ERP_STATE_DIR ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '.state'));
const stateFile = path.join(stateDir, 'orders.json');

const ACK_EVERY_EVENTS = 50;
const ACK_EVERY_MS = 1_000;
const SEEN_IDS_KEPT = 10_000;

/**
 * The URL and token. Read again at every (re)connection and acknowledgement: `npm start` renews the
 * demo token (valid 2 hours) at every start, so a long-running sync picks the new one up.
 */
function credentials(): { url: string; token: string } {
  const fromEnv = { url: process.env.PORTICO_URL, token: process.env.PORTICO_TOKEN };
  if (fromEnv.url && fromEnv.token) return { url: fromEnv.url, token: fromEnv.token };
  let demo: { graphqlUrl?: string; accessToken?: string } = {};
  try {
    demo = JSON.parse(fs.readFileSync(demoFile, 'utf8')) as typeof demo;
  } catch {
    if (!fromEnv.url || !fromEnv.token) throw new Error(`Set PORTICO_URL and PORTICO_TOKEN, or run \`npm start\` first so that ${demoFile} exists`);
  }
  return { url: fromEnv.url ?? demo.graphqlUrl!, token: fromEnv.token ?? demo.accessToken! };
}

// ─── The GraphQL operations ─────────────────────────────────────────────────────────────────────

/**
 * What an ERP needs of an order, and of the shipment or after-sales case an event concerns.
 * Buyers' shipping address (and a case's evidence notes) would need orders:read_pii as well.
 */
const ORDER_EVENTS = /* GraphQL */ `
  subscription ErpOrderEvents($after: MessageCursor) {
    orderEvents(after: $after) {
      id cursor type status reason attempt occurredAt
      order {
        id number status createdAt updatedAt
        total { amount currency }
        paid { amount currency }
        refunded { amount currency }
        lines { id skuCode productTitle quantity shippedQuantity returnedQuantity unitPrice { amount currency } total { amount currency } refunded { amount currency } }
      }
      shipment {
        id kind status carrier trackingNumber shippedAt deliveredAt
        lines { quantity line { id } }
        tracking { status location occurredAt }
      }
      afterSaleCase {
        id kind status reason updatedAt
        requested { amount currency }
        approved { amount currency }
        refunded { amount currency }
        rejectionReason closeReason
        lines { quantity line { id } }
        returnShipment { id carrier trackingNumber status }
      }
    }
  }`;

const ACKNOWLEDGE = /* GraphQL */ `
  mutation ErpAcknowledge($upTo: MessageCursor!) { acknowledgeMessages(upTo: $upTo) { acknowledgedCursor } }`;

interface Money {
  amount: number;
  currency: string;
}
interface Order {
  id: string;
  number: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  total: Money;
  paid: Money;
  refunded: Money;
  lines: { id: string; skuCode: string; productTitle: string; quantity: number; shippedQuantity: number; returnedQuantity: number; unitPrice: Money; total: Money; refunded: Money }[];
}
interface Shipment {
  id: string;
  kind: 'OUTBOUND' | 'RETURN';
  status: string;
  carrier: string;
  trackingNumber: string;
  shippedAt: string;
  deliveredAt: string | null;
  lines: { quantity: number; line: { id: string } }[];
  tracking: { status: string; location: string | null; occurredAt: string }[];
}
interface AfterSaleCase {
  id: string;
  kind: string;
  status: string;
  reason: string;
  updatedAt: string;
  requested: Money;
  approved: Money | null;
  refunded: Money;
  rejectionReason: string | null;
  closeReason: string | null;
  lines: { quantity: number; line: { id: string } }[];
  returnShipment: { id: string; carrier: string; trackingNumber: string; status: string } | null;
}
interface OrderEvent {
  id: string;
  cursor: string;
  type: string;
  status: string;
  reason: 'LIVE' | 'REPUSH' | 'MANUAL' | 'REPLAY';
  attempt: number;
  occurredAt: string;
  order: Order | null;
  /** Shipment events (SHIPMENT_CREATED, SHIPMENT_UPDATED, RETURN_SHIPPED; SHIPPED and DELIVERED when a shipment made them). */
  shipment: Shipment | null;
  /** After-sales events (AFTER_SALE_*, RETURN_*, REFUNDED). */
  afterSaleCase: AfterSaleCase | null;
}
interface GraphQLErrorLike {
  message: string;
  extensions?: { code?: unknown };
}

/** A query or mutation over plain HTTP. */
async function graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  const { url, token } = credentials();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { data?: T; errors?: GraphQLErrorLike[] };
  if (body.errors?.length || !body.data) throw new Error(`HTTP ${response.status}: ${body.errors?.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ')}`);
  return body.data;
}

// ─── The local store ────────────────────────────────────────────────────────────────────────────

interface StoredOrder extends Order {
  /** The order's shipments to the buyer and the buyers' returns, by id, as last seen. */
  shipments: Record<string, Shipment>;
  /** The order's after-sales cases, by id, as last seen. */
  afterSaleCases: Record<string, AfterSaleCase>;
  /** The events applied to this order, in the order they were applied (the ERP's audit trail). */
  events: { id: string; type: string; status: string; occurredAt: string }[];
}
interface State {
  /** Cursor of the last event applied in stream order: where to resume. */
  appliedCursor: string | null;
  /** The last cursor Portico confirmed as acknowledged. */
  acknowledgedCursor: string | null;
  /** The most recent event ids applied, oldest first (a ring of SEEN_IDS_KEPT). */
  seenEventIds: string[];
  orders: Record<string, StoredOrder>;
}

function loadState(): State {
  if (!fs.existsSync(stateFile)) return { appliedCursor: null, acknowledgedCursor: null, seenEventIds: [], orders: {} };
  return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as State;
}

/** Write to a temporary file, flush it to disk, then rename over the old one: readers see the old file or the new one, never half of one. */
function saveState() {
  fs.mkdirSync(stateDir, { recursive: true });
  const temporary = `${stateFile}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(state));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, stateFile);
}

const state = loadState();
const seen = new Set(state.seenEventIds);

function remember(eventId: string) {
  seen.add(eventId);
  state.seenEventIds.push(eventId);
  while (state.seenEventIds.length > SEEN_IDS_KEPT) seen.delete(state.seenEventIds.shift()!);
}

const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);

function formatMoney({ amount, currency }: Money): string {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return `${(amount / 10 ** digits).toFixed(digits)} ${currency}`;
}

/**
 * Applies one event to the store and writes it (order, seen id and cursor in one atomic write).
 * Returns false for a duplicate: an event already applied, which changes nothing.
 */
function apply(event: OrderEvent & { order: Order }): boolean {
  const duplicate = seen.has(event.id);
  if (!duplicate) {
    const { order } = event;
    const stored = state.orders[order.id];
    // `order` is the order as it is when the event is pushed, not as it was when the event happened.
    // An old event pushed again may carry an older snapshot than we hold: keep the newer one.
    const snapshot = !stored || order.updatedAt >= stored.updatedAt ? order : stored;
    const shipments = { ...stored?.shipments };
    // A shipment only moves forward (tracking is appended, delivered stays delivered): keep the one that knows more.
    if (event.shipment && event.shipment.tracking.length >= (shipments[event.shipment.id]?.tracking.length ?? 0)) shipments[event.shipment.id] = event.shipment;
    const afterSaleCases = { ...stored?.afterSaleCases };
    const known = event.afterSaleCase && afterSaleCases[event.afterSaleCase.id];
    if (event.afterSaleCase && (!known || event.afterSaleCase.updatedAt >= known.updatedAt)) afterSaleCases[event.afterSaleCase.id] = event.afterSaleCase;
    state.orders[order.id] = {
      ...snapshot,
      shipments,
      afterSaleCases,
      events: [...(stored?.events ?? []), { id: event.id, type: event.type, status: event.status, occurredAt: event.occurredAt }],
    };
    remember(event.id);
  }
  // LIVE and REPLAY events arrive in stream order: everything up to this one is handled, so the cursor
  // moves here (for a duplicate too, so that after a resetMessageCursor the replayed duplicates get
  // acknowledged). REPUSH (not acknowledged in time) and MANUAL (redeliverMessages) are earlier events
  // pushed again, out of order: the cursor stays where it is.
  const inOrder = event.reason === 'LIVE' || event.reason === 'REPLAY';
  if (inOrder) state.appliedCursor = event.cursor;
  if (!duplicate || inOrder) saveState();
  return !duplicate;
}

/** What the log says of a shipment or after-sales event. */
function detailOf(event: OrderEvent & { order: Order }): string {
  const { shipment, afterSaleCase: afterSale } = event;
  switch (event.type) {
    case 'SHIPMENT_CREATED':
      return shipment ? `  shipment ${shipment.carrier} ${shipment.trackingNumber} (${shipment.lines.reduce((n, l) => n + l.quantity, 0)} unit(s))` : '';
    case 'SHIPMENT_UPDATED': {
      const last = shipment?.tracking.at(-1);
      return shipment ? `  ${shipment.kind === 'RETURN' ? 'return' : 'shipment'} ${shipment.trackingNumber}: ${last ? `${last.status} ${last.location ?? ''}` : shipment.status}` : '';
    }
    case 'AFTER_SALE_OPENED':
      return afterSale ? `  case ${afterSale.kind} asks ${formatMoney(afterSale.requested)}: ${afterSale.reason}` : '';
    case 'AFTER_SALE_APPROVED':
      return afterSale?.approved ? `  case approved for ${formatMoney(afterSale.approved)}` : '';
    case 'AFTER_SALE_REJECTED':
      return afterSale ? `  case rejected: ${afterSale.rejectionReason ?? ''}` : '';
    case 'RETURN_SHIPPED':
      return afterSale?.returnShipment ? `  return ${afterSale.returnShipment.carrier} ${afterSale.returnShipment.trackingNumber}` : '';
    case 'REFUNDED':
      return `  refunded ${formatMoney(event.order.refunded)} of ${formatMoney(event.order.paid)}`;
    case 'AFTER_SALE_CLOSED':
      return afterSale ? `  case ${afterSale.status}${afterSale.closeReason ? ` (${afterSale.closeReason})` : ''}` : '';
    default:
      return '';
  }
}

// ─── Acknowledgements ───────────────────────────────────────────────────────────────────────────

let handledSinceAck = 0;
let acknowledging: Promise<void> = Promise.resolve();

/**
 * Acknowledges everything applied so far (one call covers every message up to the cursor), then
 * records that locally. Calls are chained so that two never race. A failure is logged and retried
 * on the next tick: nothing is lost, Portico just pushes unacknowledged events again later.
 */
function acknowledge(): Promise<void> {
  acknowledging = acknowledging.then(async () => {
    const upTo = state.appliedCursor;
    if (!upTo || upTo === state.acknowledgedCursor) return;
    const count = handledSinceAck;
    handledSinceAck = 0;
    try {
      await graphql(ACKNOWLEDGE, { upTo });
      state.acknowledgedCursor = upTo;
      saveState();
      log(count ? `acknowledged ${count} event(s)` : 'acknowledged what the previous run applied');
    } catch (error) {
      handledSinceAck += count;
      log(`acknowledgement failed, will retry: ${(error as Error).message}`);
    }
  });
  return acknowledging;
}

// ─── The subscription ───────────────────────────────────────────────────────────────────────────

/**
 * Where to resume. We pass `after` = the cursor of the last event *applied* (stored with the data),
 * rather than relying on the server's acknowledged cursor (what a subscription without `after` uses):
 * - acknowledgements are batched and can fail, so the server's cursor may lag behind what the store
 *   already holds; resuming from it would push those events again (harmless thanks to de-duplication,
 *   but only while their ids are still in the ring);
 * - if the store is restored from an older backup, its cursor is behind the server's: resuming from
 *   it replays exactly what the store lost, which the server's cursor would skip.
 * With no local state yet (first run), there is no `after`: the stream starts at the server's
 * acknowledged position (for a new app, where the merchant authorized it).
 *
 * graphql-ws sends this same request again when it reconnects, so keeping `variables.after` current
 * makes a reconnection resume after the last applied event too.
 */
const variables: { after?: string } = state.appliedCursor ? { after: state.appliedCursor } : {};
const request = { query: ORDER_EVENTS, variables };

/**
 * Error codes after which retrying cannot help: stop and let a person look. MESSAGES_EXPIRED: events
 * this store never applied passed the platform's retention window and were deleted; resynchronize
 * the orders with queries, then reset the cursor (resetMessageCursor) before starting again.
 */
const FATAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'MESSAGES_EXPIRED']);

let stopping = false;
let unsubscribe: (() => void) | undefined;

const client: Client = createClient({
  url: () => credentials().url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  connectionParams: () => ({ authorization: `Bearer ${credentials().token}` }),
  // Reconnect for as long as it takes, waiting 1 s, 2 s, 4 s... up to 30 s (plus jitter) between tries.
  retryAttempts: Infinity,
  retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1_000 * 2 ** retries) + Math.random() * 1_000)),
  // Retry network errors as well as closed connections. (graphql-ws never retries the fatal close
  // codes, such as 4401 for a rejected token, whatever this says.)
  shouldRetry: () => !stopping,
  on: {
    connecting: (isRetry) => isRetry && log('reconnecting'),
    connected: (_socket, _payload, wasRetry) => log(wasRetry ? 'reconnected' : `connected to ${credentials().url}`),
    closed: (event) => {
      const { code, reason } = event as { code?: number; reason?: string };
      if (!stopping) log(`connection closed: ${code ?? ''} ${reason || 'network error'}`);
    },
  },
});

function subscribe() {
  let active = true;
  const end = (restart: boolean) => {
    if (!active) return;
    active = false;
    unsubscribe?.();
    if (stopping) return;
    if (restart) {
      log('subscribing again in 5 s');
      setTimeout(subscribe, 5_000);
    } else void stop(1);
  };
  unsubscribe = client.subscribe<{ orderEvents: OrderEvent }>(request, {
    next(result) {
      if (!active || stopping) return;
      const event = result.data?.orderEvents;
      if (result.errors?.length || !event?.order) {
        // Never skip an event: a skipped event followed by applied ones would leave a gap behind our
        // cursor. Stop this subscription instead; the next one resumes right before this event.
        const errors = result.errors ?? [{ message: 'event without its order' }];
        const detail = errors.map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; ');
        log(event ? `event ${event.id} not applied: ${detail}` : `subscription error: ${detail}`);
        end(!errors.some((e) => FATAL_CODES.has(String(e.extensions?.code))));
        return;
      }
      const order = event.order;
      let applied: boolean;
      try {
        applied = apply({ ...event, order });
      } catch (error) {
        // The store could not be written (disk full...): stop at once, acknowledging nothing more.
        log(`could not apply event ${event.id}: ${(error as Error).message}`);
        process.exit(1);
      }
      variables.after = state.appliedCursor ?? undefined;
      if (applied) log(`applied   ${event.type.padEnd(19)} order ${order.number} ${order.id} -> ${event.status.padEnd(15)} ${formatMoney(order.total)}${detailOf({ ...event, order })}  event ${event.id} (${event.reason}, attempt ${event.attempt})`);
      else log(`duplicate ${event.type.padEnd(19)} order ${order.number} ${order.id}: skipped  event ${event.id} (${event.reason}, attempt ${event.attempt})`);
      if ((event.reason === 'LIVE' || event.reason === 'REPLAY') && ++handledSinceAck >= ACK_EVERY_EVENTS) void acknowledge();
    },
    error(error) {
      if (!active || stopping) return;
      const detail = Array.isArray(error) ? (error as GraphQLErrorLike[]).map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; ') : error instanceof Error ? error.message : JSON.stringify({ code: (error as { code?: unknown }).code, reason: (error as { reason?: unknown }).reason });
      log(`subscription failed: ${detail}`);
      end(false);
    },
    complete() {
      if (!active || stopping) return;
      log('the server ended the subscription');
      end(true);
    },
  });
}

// ─── Start and stop ─────────────────────────────────────────────────────────────────────────────

/** Stops cleanly: no more events, acknowledge what was applied, close the connection. */
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  unsubscribe?.();
  await acknowledge();
  await Promise.resolve(client.dispose()).catch(() => {}); // rejects when it was not connected
  log(`stopped; ${Object.keys(state.orders).length} orders in ${stateFile}`);
  process.exit(code);
}

const ticker = setInterval(() => void acknowledge(), ACK_EVERY_MS);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130); // a second Ctrl-C: leave now
    log(`${signal}: stopping`);
    void stop(0);
  });
}

log(`store ${stateFile}: ${Object.keys(state.orders).length} orders; ${state.appliedCursor ? 'resuming after the last applied event' : 'first run: starting at the stream\'s acknowledged position'}`);
// A previous run may have stopped between applying and acknowledging: acknowledge that now, since a
// subscription with `after` does not push those events again (they would stay pending otherwise).
await acknowledge();
subscribe();
