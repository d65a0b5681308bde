/**
 * The generated API reference, loaded once on demand: its own chunk (about 25 kB compressed), so
 * only the pages that show it pay for it.
 */
import type { ApiReference, ReferenceField, ReferenceType } from '../../../plugins/api-reference-model';

export type { ApiReference, ReferenceField, ReferenceType };
export type { ReferenceArgument, ReferenceCost, ReferenceExample, RequiredScopes, ReferenceScope } from '../../../plugins/api-reference-model';

let loading: Promise<ApiReference> | undefined;

export function loadReference(): Promise<ApiReference> {
  loading ??= import('virtual:api-reference').then((module) => module.default);
  // A failed load (a deploy replaced the chunk) is tried again next time.
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
