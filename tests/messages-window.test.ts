/**
 * The in-flight window when an acknowledgement's notification never arrives (a listener
 * reconnecting, say) and nothing is left to re-push: the stream asks the stored cursor now and
 * then, so it does not stall. Its own platform: a window of 5, one push per connection, a short
 * acknowledgement timeout.
 */
import { sql } from 'drizzle-orm';
import { createMerchant, createProduct, placeOrder } from './helpers/factories.js';
import { connectWs, subscribeWs } from './helpers/messages.js';
import { adjustableClock } from './helpers/clock.js';
import { startTestPlatform, TEST_APP_KEY, type TestPlatform } from './helpers/platform.js';

let t: TestPlatform;
/** Moved past the acknowledgement timeouts instead of waiting them out. */
const clock = adjustableClock();
beforeAll(async () => {
  t = await startTestPlatform({ clock, extraEnv: { MESSAGE_MAX_IN_FLIGHT: '5', MESSAGE_MAX_PUSH_ATTEMPTS: '1', MESSAGE_ACK_TIMEOUT_MS: '500' } });
});
afterAll(async () => {
  await t?.stop();
});

test('a full window whose acknowledgement was not notified resumes from the stored cursor', async () => {
  const m = await createMerchant(t);
  const skuId = (await createProduct(t, m.token, [{ stock: 100 }])).skus[0]!.id;
  const numbers: string[] = [];
  for (let i = 0; i < 8; i++) {
    const placed = await placeOrder(t, m.token, [{ skuId, quantity: 1 }]);
    if (placed.errors) throw new Error(JSON.stringify(placed.errors));
    numbers.push(placed.data!.placeOrder.order.number);
  }
  const client = connectWs(t.url, m.token);
  const sub = subscribeWs(client, 'subscription { orderEvents { id order { number } } }');
  await sub.waitFor(5);
  // Three acknowledgement timeouts later: the window is full, and no message may be pushed again.
  await clock.advance(1500);
  await new Promise((r) => setTimeout(r, 200));
  expect(sub.received).toHaveLength(5);

  // The subscriber's acknowledgement reaches the database, but its notification is lost.
  await t.platform.database.db.execute(
    sql`update app_management.message_cursors set acked_position = (select max(position) from "order".outbox_events where merchant_id = ${m.id}) where app_key = ${TEST_APP_KEY} and merchant_id = ${m.id} and source = 'order'`,
  );
  // The stream asks the stored cursor at its next check (every acknowledgement timeout).
  await clock.advance(500);
  const all = await sub.waitFor(8, 5000);
  expect(all.map((r) => r.data!.orderEvents.order.number)).toEqual(numbers);
  sub.stop();
  await client.dispose();
});
