/** The order subgraph: orders, lines, status history, shipments and after-sales. */
import { systemClock, type Clock } from '../../core/clock.js';
import type { Database } from '../../core/db.js';
import type { PlatformKeys } from '../../core/keys.js';
import type { Logger } from '../../core/logger.js';
import { createContextSigner } from '../../core/tokens.js';
import type { SubgraphDefinition } from '../../core/subgraph.js';
import { createAfterSales } from './after-sales.js';
import { createBuyerDirectory, createOrderBuyers, withOrderBuyers } from './buyers.js';
import { createCheckout } from './checkout.js';
import { createOrderLoaders, type OrderLoaders } from './loaders.js';
import { createProductClient } from './product-client.js';
import { DEFAULT_LIFECYCLE_DURATIONS, type LifecycleDurations } from './order-changes.js';
import { createOrderResolvers } from './resolvers.js';
import { createShipments } from './shipments.js';
import { orderTimerHandlers } from './lifecycle-timers.js';
import { startTimerRunner, type TimerRunner } from './timer-runner.js';
import { createOrderStore } from './store.js';
import { withSandboxOrders } from './sandbox.js';

/** The client id of the order service's own calls in a merchant's name (never an app key: those start with `app_`). */
const ORDER_SERVICE_CLIENT_ID = 'portico-order';

export interface OrderSubgraphOptions {
  /** URL of the product subgraph, for stock reservations (resolved when first needed). */
  productUrl: () => string;
  /** URL of the account subgraph, for the buyers of new orders (buyers.ts). */
  accountUrl?: () => string;
  logger: Logger;
  /** Time for the lifecycle's decisions and timers (default: the system clock). */
  clock?: Clock;
  /** The lifecycle's waits, read once from the configuration (core/config.ts orderLifecycle). */
  durations?: LifecycleDurations;
  /**
   * The platform's keys: a timer that owes stock (a refund settling units that never shipped) gives
   * it back at once, in the merchant's name, with no request to borrow a context token from.
   * Without them it is given back on the merchant's next order change.
   */
  keys?: PlatformKeys;
}

export function createOrderSubgraph(database: Database, options: OrderSubgraphOptions): SubgraphDefinition<OrderLoaders> {
  const store = createOrderStore(database.db);
  const buyerDirectory = options.accountUrl ? createBuyerDirectory(options.accountUrl) : undefined;
  const checkout = createCheckout(store, createProductClient(options.productUrl), options.logger.child({ service: 'order' }), buyerDirectory);
  const clock = options.clock ?? systemClock;
  const durations = options.durations ?? DEFAULT_LIFECYCLE_DURATIONS;
  const shipments = createShipments(database.db, clock, durations);
  const afterSales = createAfterSales(database.db, clock, durations);
  let timers: TimerRunner | undefined;
  const signContext = options.keys ? createContextSigner({ privateKey: options.keys.context.privateKey, kid: options.keys.context.kid }, 60, clock) : undefined;
  return {
    name: 'order',
    resolvers: withOrderBuyers(withSandboxOrders(createOrderResolvers(store, checkout, shipments, afterSales), database.db), createOrderBuyers(database.db), buyerDirectory),
    createLoaders: (caller, lookups) => createOrderLoaders(store, shipments, afterSales, caller, lookups),
    // The lifecycle's durable timers fire in every order process (several share them: timer-runner.ts).
    background: {
      start: () => {
        timers = startTimerRunner({
          db: database.db,
          clock,
          logger: options.logger.child({ service: 'order' }),
          handlers: orderTimerHandlers({ afterSales, clock, durations }),
          afterFired: async (kind, timer) => {
            if (kind !== 'APPROVE_AFTER_SALE' || !signContext) return;
            await checkout.giveBackOwedStock(timer.merchantId, await signContext({ kind: 'system', merchantId: timer.merchantId, appKey: ORDER_SERVICE_CLIENT_ID, scopes: ['orders:write'] }));
          },
        });
      },
      stop: async () => {
        await timers?.stop();
      },
    },
  };
}
