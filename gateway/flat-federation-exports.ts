/**
 * Loaded before @apollo/gateway: replaces the exports object of @apollo/federation-internals in
 * Node's CommonJS module cache with a plain copy of it.
 *
 * Why: that package is compiled by TypeScript, whose `export *` re-exports every name through an
 * accessor (`get: function () { return m[k]; }`), one closure per name over a shared function, so
 * V8 sees a megamorphic keyed load and cannot inline it. The gateway's result shaping
 * (@apollo/gateway's resultShaping.js) reads such a re-export for every field of every response:
 * profiled on the order page, those accessors alone took about 7 % of the gateway's CPU. The
 * package never reassigns its exports after it has loaded, so a copy of their values is the same API.
 */
import { createRequire } from 'node:module';

const requireFromHere = createRequire(import.meta.url);
const gatewayEntry = requireFromHere.resolve('@apollo/gateway');
const requireFromGateway = createRequire(gatewayEntry);

/** Whether @apollo/gateway was still unloaded here, so that its modules read the plain copies (a test checks it). */
export const flattenedBeforeGateway = !requireFromGateway.cache[gatewayEntry];

/** The packages whose index re-exports the gateway reads per field. */
const PACKAGES = ['@apollo/federation-internals'];

for (const name of PACKAGES) {
  const file = requireFromGateway.resolve(name);
  const original = requireFromGateway(name) as Record<string, unknown>;
  const cached = requireFromGateway.cache[file];
  if (!cached || cached.exports !== original) continue;
  const flat: Record<string, unknown> = {};
  for (const key of Object.keys(original)) flat[key] = original[key];
  Object.defineProperty(flat, '__esModule', { value: true });
  cached.exports = flat;
}
