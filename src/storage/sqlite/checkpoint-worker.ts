/**
 * Runs in a worker thread: checkpoints the WAL of one database from its own connection when asked,
 * so copying WAL pages into the database file and syncing it never blocks the event loop that serves
 * writes. PASSIVE checkpoints take no lock that writers wait on.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path } = workerData as { path: string };
const db = new DatabaseSync(path, { timeout: 0 });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

parentPort?.on('message', (msg: unknown) => {
  if (msg === 'checkpoint') {
    try {
      const r = checkpoint.get() as { busy: number; log: number; checkpointed: number } | undefined;
      parentPort?.postMessage({ type: 'done', log: r?.log ?? 0, checkpointed: r?.checkpointed ?? 0 });
    } catch (err) {
      parentPort?.postMessage({ type: 'error', message: (err as Error).message });
    }
  } else if (msg === 'stop') {
    db.close();
    parentPort?.close();
  }
});
