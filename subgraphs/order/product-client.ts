/**
 * The order service's calls to the product service, made on the caller's behalf with the context
 * token the request came with (so the product service applies the same merchant isolation).
 */
import { GraphQLError } from 'graphql';
import { ErrorCode, PorticoError } from '../../core/errors.js';
import { CONTEXT_TOKEN_HEADER } from '../../core/tokens.js';
import type { NewOrderLine } from './store.js';

const PASSED_THROUGH = new Set<string>([ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.FORBIDDEN]);

export interface ProductClient {
  reserveStock(contextToken: string, reservationKey: string, lines: { skuId: string; quantity: number }[]): Promise<NewOrderLine[]>;
  releaseStock(contextToken: string, reservationKey: string): Promise<boolean>;
  /** Puts returned goods back on sale; once per return key and SKU. */
  returnStock(contextToken: string, returnKey: string, lines: { skuId: string; quantity: number }[]): Promise<boolean>;
}

export function createProductClient(productUrl: () => string, timeoutMs = 10_000): ProductClient {
  async function call<T>(contextToken: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetch(productUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CONTEXT_TOKEN_HEADER]: contextToken },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
    const error = body.errors?.[0];
    if (error) {
      const code = error.extensions?.code;
      if (code && PASSED_THROUGH.has(code)) {
        throw new PorticoError(code as ErrorCode, error.message, error.extensions?.field ? { field: error.extensions.field } : {});
      }
      throw new GraphQLError(`product service failed: ${error.message}`);
    }
    if (!body.data) throw new GraphQLError(`product service answered HTTP ${response.status} without data`);
    return body.data;
  }

  return {
    async reserveStock(contextToken, reservationKey, lines) {
      const data = await call<{ reserveStock: NewOrderLine[] }>(
        contextToken,
        `mutation Reserve($input: ReserveStockInput!) {
          reserveStock(input: $input) { skuId productId productTitle skuCode quantity unitPrice { amount currency } }
        }`,
        { input: { reservationKey, lines } },
      );
      return data.reserveStock;
    },
    async releaseStock(contextToken, reservationKey) {
      const data = await call<{ releaseStock: boolean }>(
        contextToken,
        'mutation Release($key: String!) { releaseStock(reservationKey: $key) }',
        { key: reservationKey },
      );
      return data.releaseStock;
    },
    async returnStock(contextToken, returnKey, lines) {
      const data = await call<{ returnStock: boolean }>(
        contextToken,
        'mutation Return($input: ReturnStockInput!) { returnStock(input: $input) }',
        { input: { returnKey, lines } },
      );
      return data.returnStock;
    },
  };
}
