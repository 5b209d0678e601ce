/**
 * `skiff server`: the control plane in one process. So far: the datastore.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../storage/sqlite/store.ts';
import { createLogger } from '../util/log.ts';

export const DEFAULT_DATA_DIR = '/var/lib/skiff';

export const serverHelp = `Usage: skiff server [flags]

Runs the control plane. So far this opens (or creates) the embedded SQLite datastore in
DATA_DIR/db/state.db and keeps it open, compacting it in the background, until SIGINT/SIGTERM.
The API server is not built yet.

Flags:
  --data-dir DIR           where skiff keeps its state (default ${DEFAULT_DATA_DIR})
  --retain-revisions N     revisions of history the datastore keeps for watches (default 1000)
  -h, --help               show this help`;

export async function runServer(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      'retain-revisions': { type: 'string', default: '1000' },
    },
    strict: true,
  });
  const log = createLogger('skiff');
  const dataDir = values['data-dir'];
  const retain = Number(values['retain-revisions']);
  if (!Number.isSafeInteger(retain) || retain < 0) {
    throw new Error(`--retain-revisions must be a non-negative integer, got ${values['retain-revisions']}`);
  }
  const started = performance.now();
  mkdirSync(join(dataDir, 'db'), { recursive: true, mode: 0o700 });
  const store = new SqliteStore({
    path: join(dataDir, 'db', 'state.db'),
    retainRevisions: retain,
    logger: log,
  });
  const stats = store.stats();
  log.info(
    { dataDir, revision: stats.revision, keys: stats.keys, ms: Math.round(performance.now() - started) },
    'datastore opened; the API server is not built yet (see README)',
  );
  // Nothing else holds the event loop open yet (the store's timers are unref'd).
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(keepAlive);
  await store.close();
  return 0;
}
