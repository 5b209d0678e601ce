import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TarError, writeTar } from './tar.ts';

test('GNU tar reads what writeTar writes: files, modes, dirs, symlinks, long paths', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
  const tar = writeTar([
    { type: 'dir', path: 'bin' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: 'bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'file', path: 'empty', data: Buffer.alloc(0) },
    { type: 'file', path: 'big', data: Buffer.alloc(1300, 7) },
    { type: 'symlink', path: 'bin/sh', target: '/bin/tool' },
    { type: 'dir', path: longDir },
    { type: 'file', path: `${longDir}/${'f'.repeat(90)}`, data: Buffer.from('deep') },
  ]);
  assert.equal(tar.length % 512, 0);
  const file = join(dir, 'a.tar');
  writeFileSync(file, tar);
  const out = join(dir, 'out');
  execFileSync('mkdir', [out]);
  execFileSync('tar', ['-xpf', file, '-C', out]);
  assert.equal(readFileSync(join(out, 'bin/tool'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(statSync(join(out, 'bin/tool')).mode & 0o7777, 0o755);
  assert.equal(statSync(join(out, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(readFileSync(join(out, 'empty')).length, 0);
  assert.deepEqual(readFileSync(join(out, 'big')), Buffer.alloc(1300, 7));
  assert.equal(readlinkSync(join(out, 'bin/sh')), '/bin/tool');
  assert.equal(readFileSync(join(out, longDir, 'f'.repeat(90)), 'utf8'), 'deep');
});

test('writeTar is reproducible and rejects what ustar cannot hold', () => {
  const entries = [{ type: 'file' as const, path: 'x', data: Buffer.from('1') }];
  assert.deepEqual(writeTar(entries), writeTar(entries));
  assert.throws(() => writeTar([{ type: 'file', path: 'x'.repeat(300), data: Buffer.alloc(0) }]), TarError);
  assert.throws(() => writeTar([{ type: 'symlink', path: 'l', target: 't'.repeat(101) }]), TarError);
});
