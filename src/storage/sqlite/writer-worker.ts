/**
 * The SQLite store's writer thread (see {@link WriterThread}): owns the one write connection, applies
 * the batches the store posts, in order, as group-commit transactions, and answers each once its
 * transaction committed (synced); runs the compaction sweep, the free-page vacuum and the WAL
 * checkpoints. Messages: see writer-thread.ts.
 *
 * Imported outside a worker thread (as scripts/precompile.ts does, to compile it ahead) it does
 * nothing.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { Checkpointer } from './checkpointer.ts';
import { openDatabase, sqliteCode } from './schema.ts';
import { LogWriter, type WriteOp, type WriteResult } from './writer.ts';
import type { FromWriter, ToWriter, WriterThreadData } from './writer-thread.ts';

function main(port: MessagePort, data: WriterThreadData): void {
  const post = (m: FromWriter) => port.postMessage(m);
  const log = {
    debug: (obj: object, msg: string) => post({ t: 'log', level: 'debug', obj: plain(obj), msg }),
    warn: (obj: object, msg: string) => post({ t: 'log', level: 'warn', obj: plain(obj), msg }),
  };

  /** Errors as plain objects: what crosses threads intact. */
  function plain(obj: object): object {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = v instanceof Error ? errorOf(v) : v;
    return out;
  }

  function errorOf(err: unknown): { message: string; errcode?: number } {
    return { message: (err as Error)?.message ?? String(err), errcode: sqliteCode(err) };
  }

  const { db, meta } = openDatabase(data.path);
  const writer = new LogWriter(db);
  let revision = data.revision;
  let compactRev = meta.compactRevision;
  let sweptRev = meta.sweptRevision;
  let closed = false;
  let maxCheckpointPauseMs = 0;
  const queue: WriteOp[][] = [];
  let scheduled = false;
  let compaction: Promise<void> = Promise.resolve();

  let checkpointer: Checkpointer | null = null;
  if (data.checkpointWorker) {
    db.exec('PRAGMA wal_autocheckpoint = 0');
    checkpointer = new Checkpointer({
      path: data.path,
      log,
      onFailure: () => {
        if (!closed) db.exec('PRAGMA wal_autocheckpoint = 1000');
      },
      finishOnWriter: () => {
        if (closed) return;
        const t0 = performance.now();
        try {
          db.exec('PRAGMA wal_checkpoint(PASSIVE)');
        } catch (err) {
          log.debug({ err }, 'finishing a WAL checkpoint failed; will retry');
        }
        maxCheckpointPauseMs = Math.max(maxCheckpointPauseMs, performance.now() - t0);
      },
    });
  }

  /** Commits what is queued: consecutive batches share a transaction (up to maxBatch writes) and its sync. */
  function commit(): void {
    scheduled = false;
    while (queue.length > 0) {
      const group = [queue.shift()!];
      let n = group[0]!.length;
      while (queue.length > 0 && n + queue[0]!.length <= data.maxBatch) {
        n += queue[0]!.length;
        group.push(queue.shift()!);
      }
      let results: WriteResult[];
      try {
        results = writer.apply(group.length === 1 ? group[0]! : group.flat(), revision);
      } catch (err) {
        const error = errorOf(err);
        for (const _ of group) post({ t: 'batch', error });
        continue;
      }
      for (const r of results) if (r.ok) revision = r.revision;
      let at = 0;
      for (const ops of group) {
        post({
          t: 'batch',
          results: results.slice(at, at + ops.length),
          checkpointPauseMs: maxCheckpointPauseMs,
        });
        at += ops.length;
      }
    }
  }

  async function compact(id: number, rev: number): Promise<void> {
    try {
      if (rev > compactRev) {
        writer.setCompactRevision(rev);
        compactRev = rev;
      }
      sweptRev = await writer.sweep(sweptRev, compactRev, () => closed);
      await writer.vacuumFreePages(() => closed);
      post({ t: 'compacted', id, metrics: { ...writer.metrics } });
    } catch (err) {
      post({ t: 'compacted', id, metrics: { ...writer.metrics }, error: errorOf(err) });
    }
  }

  async function stop(): Promise<void> {
    commit();
    closed = true;
    await compaction;
    await checkpointer?.stop();
    try {
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } catch {
      // best effort: the WAL is replayed on the next open anyway
    }
    db.close();
    post({ t: 'stopped' });
    port.close();
  }

  port.on('message', (m: ToWriter) => {
    if (m.t === 'batch') {
      queue.push(m.ops);
      if (!scheduled) {
        scheduled = true;
        setImmediate(commit);
      }
    } else if (m.t === 'compact') {
      compaction = compaction.then(() => compact(m.id, m.revision));
    } else if (m.t === 'stop') {
      void stop();
    }
  });
  post({ t: 'ready' });
}

if (parentPort) main(parentPort, workerData as WriterThreadData);
