/** The atomic writer: layout, swap, unchanged payloads, removals, modes and bad paths. */
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Payload, validatePath, writeAtomically } from './atomic-writer.ts';

const root = mkdtempSync(join(tmpdir(), 'skiff-aw-'));
after(() => rmSync(root, { recursive: true, force: true }));
const fresh = () => mkdtempSync(join(root, 't-'));
const payload = (o: Record<string, string | [string, number]>): Payload =>
  new Map(
    Object.entries(o).map(([k, v]) => [
      k,
      typeof v === 'string' ? { data: Buffer.from(v), mode: 0o644 } : { data: Buffer.from(v[0]), mode: v[1] },
    ]),
  );

describe('writeAtomically', () => {
  it('writes a timestamped dir, ..data → it, and visible links through ..data', async () => {
    const dir = fresh();
    assert.equal(
      await writeAtomically(
        dir,
        payload({ a: '1', 'sub/b': '2' }),
        new Date(Date.UTC(2026, 10, 26, 1, 2, 3)),
      ),
      true,
    );
    const ts = readlinkSync(join(dir, '..data'));
    assert.match(ts, /^\.\.2026_11_26_01_02_03\.\d+$/);
    assert.equal(readlinkSync(join(dir, 'a')), '..data/a');
    assert.equal(readlinkSync(join(dir, 'sub')), '..data/sub');
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), '1');
    assert.equal(readFileSync(join(dir, 'sub/b'), 'utf8'), '2');
    assert.equal(statSync(join(dir, ts)).mode & 0o777, 0o755);
    assert.deepEqual(readdirSync(dir).sort(), ['..data', ts, 'a', 'sub'].sort());
  });

  it('does nothing for an unchanged payload, swaps for a changed one and removes what went away', async () => {
    const dir = fresh();
    await writeAtomically(dir, payload({ a: '1', b: '2' }));
    const first = readlinkSync(join(dir, '..data'));
    assert.equal(await writeAtomically(dir, payload({ a: '1', b: '2' })), false);
    assert.equal(readlinkSync(join(dir, '..data')), first);
    assert.equal(await writeAtomically(dir, payload({ a: 'one', c: '3' })), true);
    const second = readlinkSync(join(dir, '..data'));
    assert.notEqual(second, first);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'one');
    assert.equal(readFileSync(join(dir, 'c'), 'utf8'), '3');
    assert.throws(() => lstatSync(join(dir, 'b')), /ENOENT/);
    assert.throws(() => lstatSync(join(dir, first)), /ENOENT/, 'the old timestamped dir is removed');
    assert.deepEqual(readdirSync(dir).sort(), ['..data', second, 'a', 'c'].sort());
  });

  it('a mode change alone rewrites; modes are exact despite the umask', async () => {
    const dir = fresh();
    await writeAtomically(dir, payload({ a: ['x', 0o400] }));
    assert.equal(statSync(join(dir, 'a')).mode & 0o7777, 0o400);
    assert.equal(await writeAtomically(dir, payload({ a: ['x', 0o777] })), true);
    assert.equal(statSync(join(dir, 'a')).mode & 0o7777, 0o777);
  });

  it('an empty payload leaves just ..data and its dir', async () => {
    const dir = fresh();
    await writeAtomically(dir, new Map());
    assert.equal(readdirSync(dir).length, 2);
  });

  it('rejects unsafe paths', async () => {
    for (const [p, msg] of [
      ['', /must not be empty/],
      ['/abs', /must be relative path/],
      ['a/../b', /must not contain '..'/],
      ['..foo', /must not start with '..'/],
      ['x'.repeat(256), /filenames must be less than or equal to 255/],
    ] as const) {
      assert.throws(() => validatePath(p), msg);
    }
    await assert.rejects(writeAtomically(fresh(), payload({ '../escape': 'x' })), /must not contain/);
    assert.throws(() => validatePath('..'), /must not contain/);
    validatePath('a/..b');
  });
});
