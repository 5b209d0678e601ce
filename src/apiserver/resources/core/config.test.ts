import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const KEY_ERR =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

test('configmap keys', () => {
  assert.deepEqual(check('configmaps', { data: { 'app.properties': 'x', 'a b': 'y' } }), [
    `data[a b]: Invalid value: "a b": ${KEY_ERR}`,
  ]);
  assert.deepEqual(check('configmaps', { data: { '..x': 'y' } }), [
    'data[..x]: Invalid value: "..x": must not start with \'..\'',
  ]);
  assert.deepEqual(check('configmaps', { data: { a: 'x' }, binaryData: { a: b64('y') } }), [
    'data[a]: Invalid value: "a": duplicate of key present in binaryData',
  ]);
});

test('configmaps may hold at most 1 MiB', () => {
  assert.deepEqual(
    check('configmaps', {
      data: { a: 'x'.repeat(512 * 1024) },
      binaryData: { b: b64('y'.repeat(512 * 1024)) },
    }),
    [],
  );
  assert.deepEqual(check('configmaps', { data: { a: 'x'.repeat(1024 * 1024 + 1) } }), [
    ': Too long: may not be more than 1048576 bytes',
  ]);
});

test('configmap values must be strings; binaryData base64', () => {
  assert.deepEqual(check('configmaps', { data: { a: 1 } }), [
    'data[a]: Invalid value: 1: must be of type string',
  ]);
  assert.deepEqual(check('configmaps', { binaryData: { a: 'not base64!' } }), [
    'binaryData[a]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3',
  ]);
});

test('an immutable configmap stays as it is', () => {
  const old = { metadata: { name: 'c' }, data: { a: 'x' }, immutable: true };
  assert.deepEqual(
    check(
      'configmaps',
      { metadata: { name: 'c' }, data: { a: 'y' }, immutable: true },
      { old: structuredClone(old) },
    ),
    ['data: Forbidden: field is immutable when `immutable` is set'],
  );
  assert.deepEqual(
    check('configmaps', { metadata: { name: 'c' }, data: { a: 'x' } }, { old: structuredClone(old) }),
    ['immutable: Forbidden: field is immutable when `immutable` is set'],
  );
});

test('secrets: type defaults to Opaque; stringData is merged into data', () => {
  const s = defaulted('secrets', {
    metadata: { name: 's' },
    data: { a: b64('1') },
    stringData: { b: 'two', a: 'one' },
  });
  assert.deepEqual(s, { metadata: { name: 's' }, type: 'Opaque', data: { a: b64('one'), b: b64('two') } });
});

test('secrets: keys, size and base64', () => {
  assert.deepEqual(check('secrets', { data: { 'a/b': b64('x') } }), [
    `data[a/b]: Invalid value: "a/b": ${KEY_ERR}`,
  ]);
  assert.deepEqual(check('secrets', { data: { a: b64('x'.repeat(1024 * 1024 + 1)) } }), [
    'data: Too long: may not be more than 1048576 bytes',
  ]);
  assert.deepEqual(check('secrets', { data: { a: 'abc' } }), [
    'data[a]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 0',
  ]);
});

test('secret types need their keys', () => {
  assert.deepEqual(check('secrets', { type: 'kubernetes.io/dockerconfigjson', data: {} }), [
    'data[.dockerconfigjson]: Required value',
  ]);
  assert.deepEqual(
    check('secrets', {
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64('{"auths":{}}') },
    }),
    [],
  );
  assert.deepEqual(
    check('secrets', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('[]') } }),
    [
      'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}',
    ],
  );
  assert.deepEqual(check('secrets', { type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }), [
    'data[tls.key]: Required value',
  ]);
  assert.deepEqual(check('secrets', { type: 'kubernetes.io/basic-auth', data: {} }), [
    'data[username]: Required value',
    'data[password]: Required value',
  ]);
  assert.deepEqual(check('secrets', { type: 'kubernetes.io/ssh-auth', data: {} }), [
    'data[ssh-privatekey]: Required value',
  ]);
  assert.deepEqual(check('secrets', { type: 'kubernetes.io/service-account-token', data: {} }), [
    'metadata.annotations[kubernetes.io/service-account.name]: Required value',
  ]);
  assert.deepEqual(check('secrets', { type: 'example.com/custom', data: {} }), []);
});

test('a secret type is immutable; so is an immutable secret', () => {
  const old = { metadata: { name: 's' }, type: 'Opaque', data: { a: b64('1') }, immutable: true };
  assert.deepEqual(
    check(
      'secrets',
      {
        metadata: { name: 's' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': b64('c'), 'tls.key': b64('k') },
        immutable: true,
      },
      {
        old: structuredClone(old),
      },
    ),
    [
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
      'data: Forbidden: field is immutable when `immutable` is set',
    ],
  );
});
