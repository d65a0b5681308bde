/** Domain events of the product subgraph, as written to its outbox. */
import type { DomainEvent } from '../../messages/events.js';
import type { ProductRow, SkuRow } from './tables.js';

export type ProductEventType = 'product.created' | 'product.updated' | 'product.status_changed';
/** Why stock changed: a stock take, an adjustment, an order taking stock, or a cancelled order giving it back. */
export type StockChangeSource = 'STOCK_TAKE' | 'ADJUSTMENT' | 'ORDER_RESERVATION' | 'ORDER_RELEASE' | 'ORDER_RETURN';

export function productEvent(type: ProductEventType, product: ProductRow, skuRows: SkuRow[] | undefined, at: Date, extra: Record<string, unknown> = {}): DomainEvent {
  return {
    merchantId: product.merchantId,
    aggregateType: 'product',
    aggregateId: product.id,
    type,
    occurredAt: at,
    payload: {
      productId: product.id,
      title: product.title,
      status: product.status,
      ...(skuRows ? { skuIds: skuRows.map((s) => s.id) } : {}),
      ...extra,
    },
  };
}

export function stockChanged(sku: SkuRow, stockBefore: number, source: StockChangeSource, reference: string | null, at: Date): DomainEvent {
  return {
    merchantId: sku.merchantId,
    aggregateType: 'sku',
    aggregateId: sku.id,
    type: 'stock.changed',
    occurredAt: at,
    payload: { skuId: sku.id, productId: sku.productId, code: sku.code, stockBefore, stockAfter: sku.stock, source, reference },
  };
}
