/**
 * The platform calls out only to what its operator configured. @apollo/gateway would otherwise
 * probe cloud metadata endpoints at start and report host metrics to Apollo (gateway/apollo.ts).
 * Every outgoing HTTP request and TCP connection the process opens while a platform starts, serves
 * and stops is observed through Node's diagnostics channels (no module is replaced).
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { startTestPlatform } from './helpers/platform.js';

const loopback = (host: string | undefined) => !!host && /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost|::ffff:127\.\d+\.\d+\.\d+)$/.test(host);

test('starting, serving and stopping the platform opens no connection beyond this machine', async () => {
  const hosts: string[] = [];
  const onRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    hosts.push(`http ${request.host}`);
  };
  const onUndici = (message: unknown) => hosts.push(`fetch ${new URL((message as { request: { origin: string } }).request.origin).hostname}`);
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    socket.once('connectionAttempt', (address: string) => hosts.push(`tcp ${address}`));
    socket.once('lookup', (_error: unknown, address: string) => hosts.push(`tcp ${address}`));
  };
  diagnostics.subscribe('http.client.request.start', onRequest);
  diagnostics.subscribe('undici:request:create', onUndici);
  diagnostics.subscribe('net.client.socket', onSocket);
  try {
    const t = await startTestPlatform();
    const res = await fetch(`${t.url.replace(/\/graphql$/, '')}/healthz`);
    expect(res.status).toBe(200);
    // Cloud detectors and exporters work in the background: give them time to try.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await t.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    diagnostics.unsubscribe('http.client.request.start', onRequest);
    diagnostics.unsubscribe('undici:request:create', onUndici);
    diagnostics.unsubscribe('net.client.socket', onSocket);
  }
  const outside = hosts.filter((h) => !loopback(h.split(' ')[1]));
  expect(outside).toEqual([]);
  // The channels did observe the platform's own calls (the fetch above, its subgraphs, PostgreSQL).
  expect(hosts.length).toBeGreaterThan(0);
});
