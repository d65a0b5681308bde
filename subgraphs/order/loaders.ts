/**
 * Per-operation DataLoaders of the order subgraph: one query per kind of lookup per request, shared
 * by the operations of a request that carries several callers' (see core/shared-lookups.ts).
 */
import type DataLoader from 'dataloader';
import type { Caller } from '../../core/caller.js';
import { allRows, firstRow, rowMerchant as merchantOf, type RequestLookups } from '../../core/shared-lookups.js';
import type { AfterSales } from './after-sales.js';
import type { Shipments } from './shipments.js';
import type { OrderStore } from './store.js';
import type { AfterSaleCaseLineRow, AfterSaleCaseRow, OrderLineRow, OrderRow, OrderStatusChangeRow, ShipmentLineRow, ShipmentRow, TrackingEventRow } from './tables.js';

const ofOrder = (row: { orderId: string }) => row.orderId;
const ofShipment = (row: { shipmentId: string }) => row.shipmentId;
const ofCase = (row: { caseId: string }) => row.caseId;
const byId = (row: { id: string }) => row.id;

export function createOrderLoaders(store: OrderStore, shipments: Shipments, afterSales: AfterSales, caller: Caller, lookups: RequestLookups) {
  // No merchant: every lookup finds nothing (app-level tokens read no merchant data).
  const merchantId = caller.merchantId;
  return {
    order: lookups.merchantLoader<OrderRow, OrderRow | null>('order.orders', merchantId, { one: store.ordersByIds, pairs: store.ordersByPairs, merchantOf, idOf: byId }, firstRow),
    linesOfOrder: lookups.merchantLoader<OrderLineRow, OrderLineRow[]>('order.lines', merchantId, { one: store.linesByOrderIds, pairs: store.linesByPairs, merchantOf, idOf: ofOrder }, allRows),
    historyOfOrder: lookups.merchantLoader<OrderStatusChangeRow, OrderStatusChangeRow[]>('order.history', merchantId, { one: store.historyByOrderIds, pairs: store.historyByPairs, merchantOf, idOf: ofOrder }, allRows),
    shipment: lookups.merchantLoader<ShipmentRow, ShipmentRow | null>('order.shipments', merchantId, { one: shipments.shipmentsByIds, pairs: shipments.shipmentsByPairs, merchantOf, idOf: byId }, firstRow),
    shipmentsOfOrder: lookups.merchantLoader<ShipmentRow, ShipmentRow[]>('order.shipmentsOfOrder', merchantId, { one: shipments.shipmentsOfOrders, pairs: shipments.shipmentsOfOrdersByPairs, merchantOf, idOf: ofOrder }, allRows),
    linesOfShipment: lookups.merchantLoader<ShipmentLineRow, ShipmentLineRow[]>('order.shipmentLines', merchantId, { one: shipments.linesOfShipments, pairs: shipments.linesOfShipmentsByPairs, merchantOf, idOf: ofShipment }, allRows),
    trackingOfShipment: lookups.merchantLoader<TrackingEventRow, TrackingEventRow[]>('order.tracking', merchantId, { one: shipments.trackingOfShipments, pairs: shipments.trackingOfShipmentsByPairs, merchantOf, idOf: ofShipment }, allRows),
    afterSaleCase: lookups.merchantLoader<AfterSaleCaseRow, AfterSaleCaseRow | null>('order.cases', merchantId, { one: afterSales.casesByIds, pairs: afterSales.casesByPairs, merchantOf, idOf: byId }, firstRow),
    casesOfOrder: lookups.merchantLoader<AfterSaleCaseRow, AfterSaleCaseRow[]>('order.casesOfOrder', merchantId, { one: afterSales.casesOfOrders, pairs: afterSales.casesOfOrdersByPairs, merchantOf, idOf: ofOrder }, allRows),
    linesOfCase: lookups.merchantLoader<AfterSaleCaseLineRow, AfterSaleCaseLineRow[]>('order.caseLines', merchantId, { one: afterSales.linesOfCases, pairs: afterSales.linesOfCasesByPairs, merchantOf, idOf: ofCase }, allRows),
    returnOfCase: lookups.merchantLoader<ShipmentRow, ShipmentRow | null>('order.returnOfCase', merchantId, { one: afterSales.returnsOfCases, pairs: afterSales.returnsOfCasesByPairs, merchantOf, idOf: (row) => row.caseId ?? '' }, firstRow),
  } satisfies Record<string, DataLoader<string, unknown>>;
}

export type OrderLoaders = ReturnType<typeof createOrderLoaders>;
