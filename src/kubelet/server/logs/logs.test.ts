import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FakeClock } from '../../../util/clock.ts';
import { formatCriLine, parseCriLine } from './cri-log.ts';
import { type LogReadOptions, readCriLog, tailOffset } from './reader.ts';
import { ContainerLogManager, rotatedFiles, rotationSuffix } from './rotation.ts';

const dir = mkdtempSync(join(tmpdir(), 'skiff-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(lines: string[]): string {
  const p = join(dir, `${n++}.log`);
  writeFileSync(p, lines.join(''));
  return p;
}
const line = (sec: number, content: string, stream = 'stdout', partial = false) =>
  formatCriLine({
    timestamp: `2026-01-01T00:00:${String(sec).padStart(2, '0')}.123456789Z`,
    stream,
    partial,
    content,
  });

async function read(path: string, opts: LogReadOptions, isRunning = async () => false): Promise<string> {
  const out: Buffer[] = [];
  await readCriLog(
    path,
    opts,
    { write: (c) => out.push(c) > 0, drain: async () => {} },
    { isRunning, pollMs: 10 },
  );
  return Buffer.concat(out).toString();
}

test('parses CRI records and rejects garbage', () => {
  const r = parseCriLine(Buffer.from('2026-01-01T00:00:01.5Z stderr P some text'));
  assert.equal(r?.stream, 'stderr');
  assert.equal(r?.partial, true);
  assert.equal(r?.content.toString(), 'some text');
  assert.equal(r?.time, Date.UTC(2026, 0, 1, 0, 0, 1, 500));
  assert.equal(parseCriLine(Buffer.from('2026-01-01T00:00:01Z stdout F '))?.content.length, 0);
  assert.equal(parseCriLine(Buffer.from('not a log line')), undefined);
  assert.equal(parseCriLine(Buffer.from('garbage stdout F x')), undefined);
});

test('reads everything in order, stdout and stderr, joining partial records', async () => {
  const p = file([line(1, 'one'), line(2, 'tw', 'stdout', true), line(3, 'err', 'stderr'), line(4, 'o')]);
  assert.equal(await read(p, {}), 'one\nerr\ntwo\n');
});

test('timestamps prefix each line with the record time (the first part for a joined line)', async () => {
  const p = file([line(1, 'a'), line(2, 'b', 'stdout', true), line(3, 'c')]);
  assert.equal(
    await read(p, { timestamps: true }),
    '2026-01-01T00:00:01.123456789Z a\n2026-01-01T00:00:02.123456789Z bc\n',
  );
});

test('tailLines, sinceTime and limitBytes', async () => {
  const p = file([1, 2, 3, 4, 5].map((i) => line(i, `l${i}`)));
  assert.equal(await read(p, { tailLines: 2 }), 'l4\nl5\n');
  assert.equal(await read(p, { tailLines: 0 }), '');
  assert.equal(await read(p, { tailLines: 10 }), 'l1\nl2\nl3\nl4\nl5\n');
  assert.equal(await read(p, { sinceTime: Date.UTC(2026, 0, 1, 0, 0, 3) }), 'l3\nl4\nl5\n');
  assert.equal(await read(p, { limitBytes: 5 }), 'l1\nl2');
  assert.equal(tailOffset(Buffer.from('a\nb\nc\n'), 1), 4);
});

test('follow reads appended lines and ends once the container stopped', async () => {
  const p = file([line(1, 'first')]);
  let running = true;
  const done = read(p, { follow: true }, async () => running);
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(p, line(2, 'second'));
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(p, line(3, 'last'));
  running = false;
  assert.equal(await done, 'first\nsecond\nlast\n');
});

test('follow continues into the new file after a rotation', async () => {
  const p = file([line(1, 'before')]);
  let running = true;
  const done = read(p, { follow: true }, async () => running);
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(p, line(2, 'tail of old'));
  renameSync(p, `${p}.20260101-000000`);
  writeFileSync(p, line(3, 'after'));
  await new Promise((r) => setTimeout(r, 80));
  running = false;
  assert.equal(await done, 'before\ntail of old\nafter\n');
});

test('follow stops when aborted', async () => {
  const p = file([line(1, 'x')]);
  const ac = new AbortController();
  const out: Buffer[] = [];
  const done = readCriLog(
    p,
    { follow: true },
    { write: (c) => out.push(c) > 0, drain: async () => {} },
    {
      isRunning: async () => true,
      signal: ac.signal,
      pollMs: 10,
    },
  );
  await new Promise((r) => setTimeout(r, 30));
  ac.abort();
  await done;
  assert.equal(Buffer.concat(out).toString(), 'x\n');
});

test('rotation renames big logs, reopens them, keeps at most maxFiles', async () => {
  const cdir = join(dir, 'rot', 'c');
  mkdirSync(cdir, { recursive: true });
  const live = join(cdir, '0.log');
  const small = join(cdir, '1.log');
  writeFileSync(small, 'x');
  const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  const reopened: string[] = [];
  const mgr = new ContainerLogManager({
    runtime: {
      reopenContainerLog: async (id: string) => {
        reopened.push(id);
        if (id === 'c1') writeFileSync(live, '');
      },
    },
    containers: {
      runningContainers: () => [
        { id: 'c1', logPath: live },
        { id: 'c2', logPath: small },
      ],
    },
    maxSize: 100,
    maxFiles: 3,
    clock,
  });
  for (let i = 0; i < 4; i++) {
    writeFileSync(live, 'y'.repeat(150));
    await mgr.rotateOnce();
    clock.advance(1000);
  }
  assert.deepEqual(reopened, ['c1', 'c1', 'c1', 'c1']);
  const rotated = await rotatedFiles(live);
  assert.equal(rotated.length, 2, readdirSync(cdir).join(','));
  assert.deepEqual(
    rotated.map((f) => f.slice(live.length + 1)),
    [rotationSuffix(Date.UTC(2026, 0, 2, 3, 4, 7)), rotationSuffix(Date.UTC(2026, 0, 2, 3, 4, 8))],
  );
  assert.equal(rotationSuffix(Date.UTC(2026, 0, 2, 3, 4, 5)), '20260102-030405');
});

test('a failed reopen puts the file back', async () => {
  const p = join(dir, 'fail.log');
  writeFileSync(p, 'z'.repeat(200));
  const mgr = new ContainerLogManager({
    runtime: {
      reopenContainerLog: async () => {
        throw new Error('boom');
      },
    },
    containers: { runningContainers: () => [{ id: 'c', logPath: p }] },
    maxSize: 100,
  });
  await mgr.rotateOnce();
  assert.deepEqual(await rotatedFiles(p), []);
  assert.equal(readdirSync(dir).includes('fail.log'), true);
});

test('start() checks on the clock until stop()', async () => {
  const p = join(dir, 'periodic.log');
  writeFileSync(p, 'q'.repeat(200));
  const clock = new FakeClock();
  let rounds = 0;
  const mgr = new ContainerLogManager({
    runtime: { reopenContainerLog: async () => writeFileSync(p, '') },
    containers: {
      runningContainers: () => {
        rounds++;
        return [{ id: 'c', logPath: p }];
      },
    },
    maxSize: 100,
    intervalMs: 10_000,
    clock,
  });
  mgr.start();
  clock.advance(9_999);
  assert.equal(rounds, 0);
  clock.advance(1);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(rounds, 1);
  assert.equal((await rotatedFiles(p)).length, 1);
  await mgr.stop();
  clock.advance(60_000);
  assert.equal(rounds, 1);
});
