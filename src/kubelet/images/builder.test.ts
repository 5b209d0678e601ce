import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildDockerArchive } from './archive.ts';
import { buildBusyboxImage, buildPauseImage, ImageBuildError } from './builder.ts';

const tarText = (file: string, member: string) => execFileSync('tar', ['-xOf', file, member]).toString();

test('docker-archive layout: manifest, config with diff_ids of the layer, reproducible id', () => {
  const spec = {
    ref: 'skiff.local/x:1',
    files: [{ type: 'file' as const, path: 'hello', data: Buffer.from('hi') }],
    config: { Cmd: ['/hello'] },
    architecture: 'amd64',
  };
  const a = buildDockerArchive(spec);
  assert.deepEqual(a, buildDockerArchive(spec));
  assert.match(a.imageId, /^sha256:[0-9a-f]{64}$/);
  const dir = mkdtempSync(join(tmpdir(), 'skiff-arch-'));
  try {
    const file = join(dir, 'a.tar');
    execFileSync('sh', ['-c', `cat > ${file}`], { input: a.archive });
    const manifest = JSON.parse(tarText(file, 'manifest.json'));
    assert.equal(manifest.length, 1);
    assert.deepEqual(manifest[0].RepoTags, ['skiff.local/x:1']);
    assert.equal(`sha256:${manifest[0].Config.replace('.json', '')}`, a.imageId);
    const config = JSON.parse(tarText(file, manifest[0].Config));
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.config.Cmd, ['/hello']);
    const layer = execFileSync('tar', ['-xOf', file, manifest[0].Layers[0]]);
    assert.equal(config.rootfs.diff_ids[0], `sha256:${createHash('sha256').update(layer).digest('hex')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const haveBusybox = existsSync('/bin/busybox');
const haveCatatonit = existsSync('/usr/bin/catatonit');

test('busybox image: applets as symlinks, /bin/sh, /tmp, passwd; cached by content', {
  skip: !haveBusybox && 'no /bin/busybox',
}, async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'skiff-img-'));
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const img = await buildBusyboxImage({ cacheDir });
  assert.equal(img.ref, 'skiff.local/busybox:latest');
  const manifest = JSON.parse(tarText(img.file, 'manifest.json'));
  const layer = join(cacheDir, 'layer.tar');
  execFileSync('sh', ['-c', `tar -xOf '${img.file}' '${manifest[0].Layers[0]}' > '${layer}'`]);
  const listing = execFileSync('tar', ['-tvf', layer]).toString();
  assert.match(listing, /^-rwxr-xr-x .* bin\/busybox$/m);
  assert.match(listing, /^l.* bin\/sh -> \/bin\/busybox$/m);
  assert.match(listing, /^l.* usr\/bin\/wget -> \/bin\/busybox$/m);
  assert.match(listing, /^drwxrwxrwt .* tmp\/$/m);
  assert.match(execFileSync('tar', ['-xOf', layer, 'etc/passwd']).toString(), /^nobody:x:65534:65534:/m);
  const mtime = statSync(img.file).mtimeMs;
  const again = await buildBusyboxImage({ cacheDir });
  assert.equal(again.file, img.file);
  assert.equal(statSync(again.file).mtimeMs, mtime, 'the cached archive is reused, not rewritten');
  const other = await buildBusyboxImage({ cacheDir, ref: 'skiff.local/other:1' });
  assert.notEqual(other.file, img.file);
});

test('pause image: catatonit with entrypoint /catatonit -P', {
  skip: !haveCatatonit && 'no catatonit',
}, async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'skiff-img-'));
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const img = await buildPauseImage({ cacheDir });
  assert.equal(img.ref, 'skiff.local/pause:3.10');
  const manifest = JSON.parse(tarText(img.file, 'manifest.json'));
  const config = JSON.parse(tarText(img.file, manifest[0].Config));
  assert.deepEqual(config.config.Entrypoint, ['/catatonit', '-P']);
});

test('a missing binary is an ImageBuildError', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'skiff-img-'));
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  await assert.rejects(buildPauseImage({ cacheDir, binary: '/nonexistent/catatonit' }), ImageBuildError);
});
