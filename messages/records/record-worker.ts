/**
 * The message channel's record worker (see record-writer.ts): a thread of the gateway that writes
 * delivery records with its own connections and its own copy of the apps' keys, through the same
 * MessageStore.recordDeliveries the gateway's thread would run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openPostgres } from '../../core/db.js';
import { createMessageCrypto } from '../crypto.js';
import { serializeError, type RecordWorkerReply, type RecordWorkerRequest } from './record-writer.js';
import { createMessageStore } from '../store/index.js';

const port = parentPort!;
const data = workerData as { databaseUrl: string; connections: number; keks: { id: string; key: Uint8Array }[] };
const reply = (message: RecordWorkerReply) => port.postMessage(message);

try {
  const database = await openPostgres(data.databaseUrl, data.connections, 'portico-gateway-records');
  const crypto = createMessageCrypto(data.keks.map((k) => ({ id: k.id, key: Buffer.from(k.key) })));
  const store = createMessageStore(database.db, crypto);
  await database.ping();
  port.on('message', (request: RecordWorkerRequest) => {
    if (request.kind === 'write') {
      store.recordDeliveries(request.deliveries).then(
        () => reply({ kind: 'written', id: request.id }),
        (error: unknown) => reply({ kind: 'failed', id: request.id, error: serializeError(error) }),
      );
    } else if (request.kind === 'forget') {
      crypto.forget(request.appKey);
    } else if (request.kind === 'close') {
      void database.close().finally(() => port.close());
    }
  });
  reply({ kind: 'ready' });
} catch (error) {
  reply({ kind: 'start-failed', error: serializeError(error) });
}
