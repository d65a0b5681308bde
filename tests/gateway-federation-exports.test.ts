/**
 * gateway/flat-federation-exports.ts runs before @apollo/gateway loads, so the gateway's modules read
 * @apollo/federation-internals' exports as plain values, not through TypeScript's re-export accessors.
 * Checked in a Node process of its own: jest keeps a module registry of its own, apart from Node's
 * CommonJS cache that the gateway uses when it runs.
 */
import { execFileSync } from 'node:child_process';

const PROBE = `
import { createRequire } from 'node:module';
await import('./gateway/server.ts');
// Already evaluated while the gateway's own imports were: this reads what it found then.
const { flattenedBeforeGateway } = await import('./gateway/flat-federation-exports.ts');
const requireFromGateway = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));
const internals = requireFromGateway('@apollo/federation-internals');
const descriptor = Object.getOwnPropertyDescriptor(internals, 'isNonNullType');
console.log(JSON.stringify({ flattenedBeforeGateway, accessor: typeof descriptor.get, value: typeof descriptor.value, exports: Object.keys(internals).length }));
`;

test("the gateway's modules get @apollo/federation-internals' exports as plain values", () => {
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const seen = JSON.parse(output.trim().split('\n').pop()!) as { flattenedBeforeGateway: boolean; accessor: string; value: string; exports: number };
  expect(seen).toEqual({ flattenedBeforeGateway: true, accessor: 'undefined', value: 'function', exports: expect.any(Number) });
  expect(seen.exports).toBeGreaterThan(100);
}, 60_000);
