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

/**
 * Events of an order's shipments and after-sales cases (the order's status may stay as it is). Each
 * names the shipment or case it concerns (`shipmentId`, `caseId`), which subscribers select through
 * the supergraph. `order.refunded` is also the event of a full refund's status change: one event.
 */
export const LIFECYCLE_EVENTS = {
  SHIPMENT_CREATED: 'order.shipment_created',
  SHIPMENT_UPDATED: 'order.shipment_updated',
  AFTER_SALE_OPENED: 'order.after_sale_opened',
  AFTER_SALE_APPROVED: 'order.after_sale_approved',
  AFTER_SALE_REJECTED: 'order.after_sale_rejected',
  RETURN_SHIPPED: 'order.return_shipped',
  RETURN_RECEIVED: 'order.return_received',
  REFUNDED: 'order.refunded',
  AFTER_SALE_CLOSED: 'order.after_sale_closed',
} as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[keyof typeof LIFECYCLE_EVENTS];

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

/** A shipment or after-sales event of an order, with the order's status as it is after the change. */
export function lifecycleEvent(type: LifecycleEventType, order: OrderRow, previousStatus: OrderStatus, at: Date, extra: Record<string, unknown>): DomainEvent {
  return {
    merchantId: order.merchantId,
    aggregateType: 'order',
    aggregateId: order.id,
    type,
    occurredAt: at,
    payload: { orderId: order.id, number: order.number, status: order.status, previousStatus, ...extra },
  };
}
