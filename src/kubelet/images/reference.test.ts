import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyDefaultImageTag,
  defaultPullPolicy,
  InvalidReferenceError,
  parseImageReference,
  repositoryOf,
} from './reference.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('parses references as docker/distribution does', () => {
  assert.deepEqual(parseImageReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseImageReference('foo/bar:1.0'), { domain: 'docker.io', path: 'foo/bar', tag: '1.0' });
  assert.deepEqual(parseImageReference('localhost:5000/x/y:v2'), {
    domain: 'localhost:5000',
    path: 'x/y',
    tag: 'v2',
  });
  assert.deepEqual(parseImageReference('127.0.0.1:5000/busybox'), {
    domain: '127.0.0.1:5000',
    path: 'busybox',
  });
  assert.deepEqual(parseImageReference('index.docker.io/library/nginx'), {
    domain: 'docker.io',
    path: 'library/nginx',
  });
  assert.deepEqual(parseImageReference(`skiff.local/pause@${DIGEST}`), {
    domain: 'skiff.local',
    path: 'pause',
    digest: DIGEST,
  });
  assert.deepEqual(parseImageReference(`a/b:t@${DIGEST}`), {
    domain: 'docker.io',
    path: 'a/b',
    tag: 't',
    digest: DIGEST,
  });
});

test('rejects invalid names', () => {
  for (const bad of [
    '',
    'UPPER',
    'foo/Bar',
    'a:b:c',
    'busybox:',
    ':tag',
    'a//b',
    'foo@sha256:xyz',
    '-x',
    'x-',
    'a/b:t!',
  ]) {
    assert.throws(() => parseImageReference(bad), InvalidReferenceError, bad);
  }
  assert.throws(() => parseImageReference('Foo'), /must be lowercase/);
});

test('applyDefaultImageTag appends :latest only without tag and digest, keeping the short name', () => {
  assert.equal(applyDefaultImageTag('busybox'), 'busybox:latest');
  assert.equal(applyDefaultImageTag('busybox:1.36'), 'busybox:1.36');
  assert.equal(applyDefaultImageTag(`busybox@${DIGEST}`), `busybox@${DIGEST}`);
  assert.equal(applyDefaultImageTag('127.0.0.1:5000/x'), '127.0.0.1:5000/x:latest');
  assert.throws(() => applyDefaultImageTag('BAD'), InvalidReferenceError);
});

test('default pull policy: Always for latest or untagged, else IfNotPresent', () => {
  assert.equal(defaultPullPolicy('busybox'), 'Always');
  assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
  assert.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent');
  assert.equal(defaultPullPolicy(`busybox@${DIGEST}`), 'IfNotPresent');
  assert.equal(defaultPullPolicy(`busybox:latest@${DIGEST}`), 'Always');
  assert.equal(defaultPullPolicy('localhost:5000/x'), 'Always');
});

test('repositoryOf gives the name credentials are matched against', () => {
  assert.equal(repositoryOf('busybox'), 'docker.io/library/busybox');
  assert.equal(repositoryOf('reg.example.com:5000/team/app:1'), 'reg.example.com:5000/team/app');
});
