/**
 * Placing and cancelling orders, where the order service and the product service must agree on
 * stock. Placing: reserve stock first (idempotent per key), then commit the order; if the commit
 * fails, give the stock back. Cancelling: commit the cancellation together with a "stock owed" row,
 * then release; the row stays until the product service confirmed, so a failed release is not lost:
 * it is retried in the background while the request's context token lasts (after 1, 2, 4 and 8 s),
 * and after any later order mutation of the merchant (place, pay, ship, cancel), on any process.
 * Goods a buyer returned (after-sales) are owed and given back the same way (pending_stock_returns).
 * Stock reserved for an order that never committed, where giving it back failed too, is not lost
 * either: placing records an intent before reserving (stock_reservation_intents), the order's
 * commit deletes it, and an intent older than any attempt can take is given back by the same drain.
 */
import crypto from 'node:crypto';
import { isUniqueViolation } from '../../core/db.js';
import { badInput, conflict } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import * as v from '../../core/validate.js';
import type { BuyerDirectory, OrderBuyerInput } from './buyers.js';
import type { ProductClient } from './product-client.js';
import { validateAddress, type OrderStore } from './store.js';
import type { Address, OrderRow } from './tables.js';

/** When a failed stock release is tried again in the background (the context token lasts at least 30 s). */
const RELEASE_RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];
/**
 * An intent this old has no attempt placing its order any more (a product call times out after 10
 * s, and a request fails long before this): if no order holds its stock, the stock is given back.
 */
export const ABANDONED_RESERVATION_SECONDS = 120;

export interface PlaceOrderInput {
  idempotencyKey: string;
  lines: { skuId: string; quantity: number }[];
  shippingAddress: Address;
  /** The buyer as the app knows them (an openid, a unionid or a guest id): buyers.ts. */
  buyer?: OrderBuyerInput | null;
}

export function createCheckout(store: OrderStore, products: ProductClient, logger: Logger, buyers?: BuyerDirectory) {
  function sameLines(lines: { skuId: string; quantity: number }[], stored: { skuId: string; quantity: number }[]) {
    const key = (l: { skuId: string; quantity: number }) => `${l.skuId.toLowerCase()}:${l.quantity}`;
    return lines.map(key).sort().join() === stored.map(key).sort().join();
  }

  /** An address as one comparable string, whatever the order of its fields. */
  const addressKey = (address: Address | null) => JSON.stringify(Object.entries(address ?? {}).filter(([, value]) => value !== null && value !== undefined).sort(([a], [b]) => a.localeCompare(b)));

  /** The order already placed with this key, if any; the same key for another order is a CONFLICT. */
  async function replay(merchantId: string, key: string, lines: PlaceOrderInput['lines'], shippingAddress: Address): Promise<OrderRow | undefined> {
    const existing = await store.findByIdempotencyKey(merchantId, key);
    if (!existing) return undefined;
    const stored = await store.linesByOrderIds(merchantId, [existing.id]);
    const merged = new Map<string, number>();
    for (const l of lines) merged.set(l.skuId.toLowerCase(), (merged.get(l.skuId.toLowerCase()) ?? 0) + l.quantity);
    if (!sameLines([...merged].map(([skuId, quantity]) => ({ skuId, quantity })), stored) || addressKey(existing.shippingAddress) !== addressKey(shippingAddress)) {
      throw conflict('This idempotency key was already used for a different order', { field: 'idempotencyKey', orderId: existing.id });
    }
    return existing;
  }

  /** Gives back the stock the merchant's cancelled orders still hold; whether nothing is owed any more. */
  async function releaseOwedStock(merchantId: string, contextToken: string): Promise<boolean> {
    let settled = true;
    for (const owed of await store.pendingStockReleases(merchantId)) {
      try {
        // Idempotent per reservation key: two drains of the same row give the stock back once.
        await products.releaseStock(contextToken, owed.reservationKey);
        await store.stockReleaseDone(merchantId, owed.orderId);
      } catch (error) {
        settled = false;
        await store.stockReleaseFailed(merchantId, owed.orderId, String((error as Error).message));
        logger.warn({ err: error, orderId: owed.orderId }, 'stock release failed; kept for retry');
      }
    }
    // Returned goods (after-sales) go back on sale the same way: owed in the transaction, given, then forgotten.
    for (const owed of await store.pendingStockReturns(merchantId)) {
      try {
        // Idempotent per return key and SKU: two drains of the same row add the stock once.
        await products.returnStock(contextToken, `return:${owed.caseId}`, owed.lines);
        await store.stockReturnDone(merchantId, owed.caseId);
      } catch (error) {
        settled = false;
        await store.stockReturnFailed(merchantId, owed.caseId, String((error as Error).message));
        logger.warn({ err: error, caseId: owed.caseId }, 'returning stock failed; kept for retry');
      }
    }
    for (const reservationKey of await store.claimAbandonedReservations(merchantId, ABANDONED_RESERVATION_SECONDS)) {
      try {
        await products.releaseStock(contextToken, reservationKey);
        await store.settleReservationIntents(merchantId, [reservationKey]);
        logger.info({ merchantId, reservationKey }, 'gave back stock reserved for an order that never committed');
      } catch (error) {
        settled = false;
        await store.reservationReleaseFailed(merchantId, reservationKey, String((error as Error).message));
        logger.warn({ err: error, reservationKey }, 'giving back stock of an abandoned reservation failed; kept for retry');
      }
    }
    return settled;
  }

  /** Merchants with a background retry waiting (one at a time per merchant). */
  const retrying = new Set<string>();
  function retryLater(merchantId: string, contextToken: string, attempt = 0) {
    if (attempt >= RELEASE_RETRY_DELAYS_MS.length || retrying.has(merchantId)) return;
    retrying.add(merchantId);
    setTimeout(() => {
      retrying.delete(merchantId);
      drain(merchantId, contextToken, attempt + 1);
    }, RELEASE_RETRY_DELAYS_MS[attempt]).unref();
  }
  function drain(merchantId: string, contextToken: string, attempt = 0) {
    releaseOwedStock(merchantId, contextToken).then(
      (settled) => settled || retryLater(merchantId, contextToken, attempt),
      (error: unknown) => {
        logger.warn({ err: error, merchantId }, 'owed stock could not be read; retrying');
        retryLater(merchantId, contextToken, attempt);
      },
    );
  }

  return {
    async placeOrder(merchantId: string, contextToken: string, input: PlaceOrderInput): Promise<OrderRow> {
      const key = v.idempotencyKey(input.idempotencyKey);
      if (input.lines.length < 1 || input.lines.length > 100) throw badInput('An order has 1 to 100 lines', 'lines');
      input.lines.forEach((line, i) => {
        v.id(line.skuId, `lines[${i}].skuId`);
        v.intInRange(line.quantity, `lines[${i}].quantity`, 1, 10_000);
      });
      const shippingAddress = validateAddress(input.shippingAddress);
      const replayed = await replay(merchantId, key, input.lines, shippingAddress);
      if (replayed) return replayed;
      // The buyer before any stock is taken (a guest's virtual buyer is created once, however often this is retried).
      const buyerId = input.buyer && buyers ? await buyers.buyerOf(contextToken, input.buyer) : null;

      const reservationKey = `order:${crypto.createHash('sha256').update(key).digest('base64url')}`;
      // Recorded before reserving: if this order never commits and its stock cannot be given back
      // now, the intent outlives this request and a later drain gives the stock back.
      const intent = await store.recordReservationIntent(merchantId, reservationKey);
      if (!intent) throw conflict('An earlier attempt of this order is still giving its stock back; try again in a moment', { field: 'idempotencyKey', retryable: true });
      const reserved = await products.reserveStock(contextToken, reservationKey, input.lines);
      try {
        const order = await store.insertOrder(merchantId, { buyerId, lines: reserved, shippingAddress, idempotencyKey: key, stockReservationKey: reservationKey });
        drain(merchantId, contextToken);
        return order;
      } catch (error) {
        // An order with this key may be committed all the same: placed concurrently with the same key
        // (the unique violation), or this insert itself with only its answer lost. That order holds
        // the reservation: answer with it, never give its stock back.
        const placedConcurrently = isUniqueViolation(error, 'orders_merchant_idempotency_key');
        const committed = await replay(merchantId, key, input.lines, shippingAddress).catch((replayError: unknown) => {
          if (placedConcurrently) throw replayError; // e.g. that order has other lines: CONFLICT
          return undefined; // the order database still fails: no order is known to hold the stock
        });
        if (committed) return committed;
        // No order holds the stock: give it back. A retry with the same key takes it again. If that
        // fails too, the intent stays and a later drain gives the stock back.
        const released = await products.releaseStock(contextToken, reservationKey).then(
          () => true,
          (releaseError: unknown) => {
            logger.warn({ err: releaseError, reservationKey }, 'could not give back stock of an order that failed to commit; kept for a later drain');
            return false;
          },
        );
        if (released) await store.dropReservationIntent(merchantId, reservationKey, intent).catch(() => undefined); // left behind, a drain finds nothing to give back
        // A concurrent request with the same key (which found this reservation held and reused it)
        // may have committed its order meanwhile: that order needs the stock, so it is taken again.
        const late = await replay(merchantId, key, input.lines, shippingAddress).catch(() => undefined);
        if (late) {
          await products.reserveStock(contextToken, reservationKey, input.lines).catch((reserveError: unknown) =>
            logger.error({ err: reserveError, reservationKey, orderId: late.id }, 'an order committed concurrently holds no stock: its reservation could not be taken again'),
          );
          return late;
        }
        throw error;
      }
    },

    async cancelOrder(merchantId: string, contextToken: string, input: { orderId: string; reason?: string | null }): Promise<OrderRow> {
      const reason = v.optionalText(input.reason, 'reason', 500);
      const order = await store.transition(merchantId, input.orderId, 'CANCELLED', { reason });
      // Answered once the stock is back (or kept owed, and retried in the background).
      if (!(await releaseOwedStock(merchantId, contextToken).catch(() => false))) retryLater(merchantId, contextToken);
      return order;
    },

    /** After a change that owes stock (a return received): gives it back now, or keeps it owed and retries in the background. */
    async giveBackOwedStock(merchantId: string, contextToken: string) {
      if (!(await releaseOwedStock(merchantId, contextToken).catch(() => false))) retryLater(merchantId, contextToken);
    },

    /** After another order mutation of the merchant: gives back stock still owed, in the background. */
    settle(merchantId: string, contextToken: string) {
      drain(merchantId, contextToken);
    },
  };
}

export type Checkout = ReturnType<typeof createCheckout>;
