/**
 * Runs in a worker thread: checkpoints the WAL of one database from its own connection, so the copy
 * of WAL pages into the database file and its fsync never block the event loop that serves writes.
 * PASSIVE checkpoints take no locks that writers wait on.
 */
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

interface Config {
  path: string;
  intervalMs: number;
  thresholdBytes: number;
}

const { path, intervalMs, thresholdBytes } = workerData as Config;
const db = new DatabaseSync(path, { timeout: 0 });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

function walSize(): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

let lastFull = Date.now();
const timer = setInterval(() => {
  // Checkpoint when the WAL has grown, and at least every few seconds while it is not empty.
  const size = walSize();
  if (size === 0 || (size < thresholdBytes && Date.now() - lastFull < 5000)) return;
  try {
    const r = checkpoint.get() as { busy: number; log: number; checkpointed: number } | undefined;
    if (r && r.checkpointed === r.log) lastFull = Date.now();
    parentPort?.postMessage({ type: 'checkpoint', walBytes: size, ...r });
  } catch (err) {
    parentPort?.postMessage({ type: 'error', message: (err as Error).message });
  }
}, intervalMs);

parentPort?.on('message', (msg: unknown) => {
  if (msg === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort?.close();
  }
});
