/** Domain events of the order subgraph, as written to its outbox. */
import type { DomainEvent } from '../../messages/events.js';
import type { OrderRow, OrderStatus } from './tables.js';

/** The event each status is entered with. */
export const EVENT_OF_STATUS: Record<OrderStatus, string> = {
  PENDING_PAYMENT: 'order.created',
  PAID: 'order.paid',
  SHIPPED: 'order.shipped',
  DELIVERED: 'order.delivered',
  COMPLETED: 'order.completed',
  CANCELLED: 'order.cancelled',
  REFUNDING: 'order.refund_requested',
  REFUNDED: 'order.refunded',
};

export function orderEvent(order: OrderRow, previousStatus: OrderStatus | null, at: Date, extra: Record<string, unknown> = {}): DomainEvent {
  return {
    merchantId: order.merchantId,
    aggregateType: 'order',
    aggregateId: order.id,
    type: EVENT_OF_STATUS[order.status],
    occurredAt: at,
    payload: { orderId: order.id, number: order.number, status: order.status, previousStatus, ...extra },
  };
}
