/**
 * What running a short command costs a big process: `child_process.spawn` (fork of this process)
 * against the shell pool (fork in a small helper shell), at several heap sizes. Per command: how long
 * the event loop was blocked inside the call (what every other request served by the process waits),
 * and the wall time to the result. Usage:
 *
 *   node_modules/.bin/node bench/exec/run.ts [--commands 50] [--heaps 0,100,300]
 *
 * Prints a Markdown table on stdout; the medians of `--commands` runs of `/bin/true` one at a time.
 */

import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type CommandRunner, spawnRunner } from '../../src/util/exec/runner.ts';
import { ShellPoolRunner } from '../../src/util/exec/shell-pool.ts';

const { values } = parseArgs({
  options: { commands: { type: 'string', default: '50' }, heaps: { type: 'string', default: '0,100,300' } },
});
const N = Number(values.commands);
const heaps = values.heaps.split(',').map(Number);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const retained: unknown[] = [];
/** Grows this process by about `mb` MB of JS heap and buffers (kept alive), as a busy server is. */
function grow(mb: number) {
  for (let i = 0; i < mb / 2; i++) {
    retained.push(Buffer.alloc(1 << 20, 1));
    retained.push(Array.from({ length: 10_000 }, (_, j) => ({ i, j, s: `x${j}` })));
  }
}

async function measure(runner: CommandRunner) {
  const blocked: number[] = [];
  const wall: number[] = [];
  await runner.run('true', []); // warm-up (starts the shells)
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const p = runner.run('true', []);
    blocked.push(performance.now() - t0);
    await p;
    wall.push(performance.now() - t0);
  }
  return { blocked: median(blocked), wall: median(wall) };
}

const rows: string[] = [];
let grown = 0;
for (const mb of heaps) {
  grow(mb - grown);
  grown = mb;
  const rss = process.memoryUsage().rss / 1e6;
  const pool = new ShellPoolRunner();
  const s = await measure(spawnRunner);
  const p = await measure(pool);
  await pool.close();
  rows.push(
    `| ${rss.toFixed(0)} MB | ${s.blocked.toFixed(2)} | ${s.wall.toFixed(2)} | ${p.blocked.toFixed(3)} | ${p.wall.toFixed(2)} | ${(s.blocked / p.blocked).toFixed(0)}× |`,
  );
  console.error(`[bench] ${rss.toFixed(0)} MB done`);
}
console.log(
  `Medians of ${N} runs of \`true\`, one at a time; ${cpus().length} × ${cpus()[0]?.model}, load ${loadavg()[0]!.toFixed(2)}, node ${process.version}.\n`,
);
console.log(
  '| process RSS | spawn: loop blocked ms | spawn: wall ms | shell pool: loop blocked ms | shell pool: wall ms | blocked, spawn ÷ pool |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
