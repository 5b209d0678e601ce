import assert from 'node:assert/strict';
import { it } from 'node:test';
import { normalizeImageRef } from './ref.ts';

it('normalises image references as containerd does', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['foo/bar', 'docker.io/foo/bar:latest'],
    ['index.docker.io/foo/bar:1', 'docker.io/foo/bar:1'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
    ['localhost/app:v1', 'localhost/app:v1'],
    ['skiff.local/busybox:latest', 'skiff.local/busybox:latest'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    [`sha256:${'b'.repeat(64)}`, `sha256:${'b'.repeat(64)}`],
  ];
  for (const [input, want] of cases) assert.equal(normalizeImageRef(input), want, input);
});
