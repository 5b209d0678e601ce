import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSchema } from './compile.ts';
import { cronTab, cronTabSchema } from './testdata.ts';
import type { JSONSchemaProps } from './types.ts';

describe('prune', () => {
  test('drops unspecified fields and reports their paths, sorted', () => {
    const obj = cronTab({ foo: 'bar', nested: { a: 1 } });
    const pruned = compileSchema(cronTabSchema()).prune(obj);
    assert.deepEqual(pruned, ['spec.foo', 'spec.nested']);
    assert.deepEqual(obj.spec, { cronSpec: '* * * * */5', image: 'my-awesome-cron-image', replicas: 1 });
  });

  test('keeps apiVersion, kind and metadata at the root even when the schema omits them', () => {
    const s = compileSchema({ type: 'object', properties: { spec: { type: 'object' } } });
    const obj = { apiVersion: 'a/v1', kind: 'A', metadata: { name: 'x' }, spec: {}, extra: true };
    assert.deepEqual(s.prune(obj), ['extra']);
    assert.deepEqual(obj, { apiVersion: 'a/v1', kind: 'A', metadata: { name: 'x' }, spec: {} });
  });

  test('reduces metadata to ObjectMeta fields, reported first', () => {
    const obj = {
      apiVersion: 'a/v1',
      kind: 'A',
      metadata: {
        name: 'x',
        labels: { app: 'a' },
        clusterName: 'gone',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u', bogus: 1 }],
      },
      zzz: 1,
    };
    assert.deepEqual(compileSchema({ type: 'object' }).prune(obj), [
      'metadata.clusterName',
      'metadata.ownerReferences[0].bogus',
      'zzz',
    ]);
    assert.deepEqual(obj.metadata, {
      name: 'x',
      labels: { app: 'a' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u' }],
    });
  });

  test('x-kubernetes-preserve-unknown-fields keeps unknown fields but prunes inside known ones', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': true,
          properties: { known: { type: 'object', properties: { a: { type: 'string' } } } },
        },
      },
    });
    const obj = { spec: { anything: { deep: [1] }, known: { a: 'x', b: 'y' } } };
    assert.deepEqual(s.prune(obj), ['spec.known.b']);
    assert.deepEqual(obj.spec, { anything: { deep: [1] }, known: { a: 'x' } });
  });

  test('items of arrays are pruned with their index', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            ports: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' } } } },
          },
        },
      },
    });
    const obj = { spec: { ports: [{ port: 80 }, { port: 81, name: 'x' }] } };
    assert.deepEqual(s.prune(obj), ['spec.ports[1].name']);
  });

  test('additionalProperties: a schema prunes map values, true or false keeps only scalars', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            byName: {
              type: 'object',
              additionalProperties: { type: 'object', properties: { v: { type: 'string' } } },
            },
            anything: { type: 'object', additionalProperties: true },
          },
        },
      },
    });
    const obj = { spec: { byName: { a: { v: 'x', w: 'y' } }, anything: { s: 'kept', o: { gone: 1 } } } };
    assert.deepEqual(s.prune(obj), ['spec.anything.o.gone', 'spec.byName.a.w']);
    assert.deepEqual(obj.spec, { byName: { a: { v: 'x' } }, anything: { s: 'kept', o: {} } });
  });

  test('x-kubernetes-embedded-resource keeps apiVersion/kind/metadata and reduces its metadata', () => {
    const template: JSONSchemaProps = {
      type: 'object',
      'x-kubernetes-embedded-resource': true,
      properties: { spec: { type: 'object', properties: { image: { type: 'string' } } } },
    };
    const s = compileSchema({
      type: 'object',
      properties: { spec: { type: 'object', properties: { template } } },
    });
    const obj = {
      spec: {
        template: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { labels: { a: 'b' }, junk: true },
          spec: { image: 'nginx', cmd: 'x' },
        },
      },
    };
    assert.deepEqual(s.prune(obj), ['spec.template.spec.cmd', 'spec.template.metadata.junk']);
    assert.deepEqual(obj.spec.template, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { labels: { a: 'b' } },
      spec: { image: 'nginx' },
    });
  });

  test('nulls of non-nullable fields without a default are dropped, silently', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            a: { type: 'string' },
            b: { type: 'string', nullable: true },
            c: { type: 'string', default: 'x' },
          },
        },
      },
    });
    const obj = { spec: { a: null, b: null, c: null } };
    assert.deepEqual(s.prune(obj), []);
    assert.deepEqual(obj.spec, { b: null, c: null });
  });

  test('without a schema everything but apiVersion, kind and metadata goes', () => {
    const obj = { apiVersion: 'a/v1', kind: 'A', metadata: {}, spec: { a: 1 } };
    assert.deepEqual(compileSchema(undefined).prune(obj), ['spec']);
  });

  test('keys named like Object.prototype members are ordinary fields', () => {
    const obj = JSON.parse('{"spec": {"constructor": 1, "__proto__": {"x": 1}, "image": "i"}}');
    assert.deepEqual(compileSchema(cronTabSchema()).prune(obj), ['spec.__proto__', 'spec.constructor']);
    assert.deepEqual(obj.spec, { image: 'i' });
  });
});
