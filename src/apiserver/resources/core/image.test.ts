import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPullPolicy, imageTag, parseImage } from './image.ts';

test('image references', () => {
  assert.deepEqual(parseImage('nginx'), { name: 'nginx', tag: '', digest: '' });
  assert.deepEqual(parseImage('localhost:5000/team/app:v1.2'), {
    name: 'localhost:5000/team/app',
    tag: 'v1.2',
    digest: '',
  });
  assert.equal(parseImage('Nginx'), undefined);
  assert.equal(parseImage(''), undefined);
  assert.equal(imageTag('nginx'), 'latest');
  assert.equal(imageTag(`nginx@sha256:${'0'.repeat(64)}`), '');
});

test('pull policy: Always for latest or no tag, otherwise IfNotPresent (also when unparseable)', () => {
  assert.equal(defaultPullPolicy('nginx'), 'Always');
  assert.equal(defaultPullPolicy('docker.io/library/nginx:latest'), 'Always');
  assert.equal(defaultPullPolicy('nginx:1.27'), 'IfNotPresent');
  assert.equal(defaultPullPolicy(`nginx:latest@sha256:${'a'.repeat(64)}`), 'Always');
  assert.equal(defaultPullPolicy(`nginx@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
  assert.equal(defaultPullPolicy('NOT VALID'), 'IfNotPresent');
  assert.equal(defaultPullPolicy('registry:5000/app'), 'Always');
});
