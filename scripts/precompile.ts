/**
 * Fills Node's compile cache (the directory in NODE_COMPILE_CACHE, which bin/skiff sets) with the
 * modules skiff's commands run, so that the first `skiff server` after set-up starts as quickly as
 * later ones: Node stores each TypeScript file's stripped source and its compiled code there, keyed
 * by the file's contents (a stale entry is simply compiled again). It imports each command's module
 * in src/cli (they only define functions; main.ts, which would run a command, is skipped).
 */
import { readdirSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

if (!process.env.NODE_COMPILE_CACHE) {
  console.error('precompile: NODE_COMPILE_CACHE is not set; nothing to do');
  process.exit(0);
}
const cli = join(import.meta.dirname, '..', 'src', 'cli');
const commands = readdirSync(cli).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'main.ts',
);
for (const f of commands) await import(pathToFileURL(join(cli, f)).href);
// Worker threads' entry modules, which no command imports (each does nothing outside a worker).
const workers = [join(import.meta.dirname, '..', 'src', 'storage', 'sqlite', 'writer-worker.ts')];
for (const f of workers) await import(pathToFileURL(f).href);
flushCompileCache();
console.error(
  `precompile: ${commands.length} command modules, ${workers.length} worker module(s) and their imports compiled into ${process.env.NODE_COMPILE_CACHE}`,
);
