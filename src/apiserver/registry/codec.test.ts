import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../object.ts';
import { CachedEvent } from '../watchcache/cache.ts';
import {
  decodeFromStorage,
  encodeForStorage,
  noteWritten,
  storedHead,
  withResourceVersion,
  writtenJson,
} from './codec.ts';

const enc = new TextEncoder();
const kv = (value: Uint8Array, rev: number) => ({
  key: '/registry/core/pods/ns/a',
  value,
  createRevision: rev,
  modRevision: rev,
  version: 1,
});

describe('storage codec', () => {
  it('stores apiVersion, kind and metadata first, without resourceVersion, and decodes the same object', () => {
    const obj = {
      spec: { x: [1, { y: 'z' }] },
      metadata: { name: 'a', namespace: 'ns', resourceVersion: '7', labels: { 'k"q': 'v' } },
      kind: 'Pod',
      apiVersion: 'v1',
      status: undefined,
      ['__proto__']: { p: 1 },
    } as unknown as KubeObject;
    Object.defineProperty(obj, '__proto__', { value: { p: 1 }, enumerable: true });
    const bytes = encodeForStorage(obj);
    const text = new TextDecoder().decode(bytes);
    assert.ok(text.startsWith('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"'), text);
    assert.ok(!text.includes('resourceVersion'));
    const back = decodeFromStorage(kv(bytes, 9));
    assert.deepEqual(JSON.parse(JSON.stringify(back)), {
      ...JSON.parse(JSON.stringify(obj)),
      metadata: { ...obj.metadata, resourceVersion: '9' },
    });
  });

  it('stores an object already in the stored order as the member-by-member encoding does, and leaves it as it was', () => {
    const inOrder = (rv: string | undefined) =>
      ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'a', ...(rv === undefined ? {} : { resourceVersion: rv }), uid: 'u' },
        spec: { nodeName: 'n', tolerations: [{ key: 'k' }] },
        status: undefined,
      }) as unknown as KubeObject;
    for (const rv of ['12', undefined]) {
      const obj = inOrder(rv);
      const text = new TextDecoder().decode(encodeForStorage(obj));
      // The same members in another order go the member-by-member way.
      const reordered = { spec: obj.spec, apiVersion: 'v1', kind: 'Pod', metadata: { ...obj.metadata } };
      const slow = new TextDecoder().decode(encodeForStorage(reordered as unknown as KubeObject));
      assert.equal(text, slow);
      assert.equal(
        text,
        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","uid":"u"},"spec":{"nodeName":"n","tolerations":[{"key":"k"}]}}',
      );
      assert.deepEqual(obj, inOrder(rv));
      assert.deepEqual(
        Object.keys(obj.metadata),
        rv === undefined ? ['name', 'uid'] : ['name', 'resourceVersion', 'uid'],
      );
    }
    // An encoding that throws (a BigInt) leaves resourceVersion in place too.
    const bad = inOrder('3');
    (bad.spec as Record<string, unknown>).big = 1n;
    assert.throws(() => encodeForStorage(bad), TypeError);
    assert.equal(bad.metadata.resourceVersion, '3');
  });

  it('splices the resourceVersion into stored bytes, also into an empty metadata', () => {
    for (const meta of [{ name: 'a' }, {}]) {
      const bytes = encodeForStorage({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta,
        spec: {},
      } as KubeObject);
      const head = storedHead(bytes);
      assert.ok(head);
      assert.equal(head.apiVersion, 'v1');
      const json = Buffer.concat(withResourceVersion(bytes, head, 42)).toString('utf8');
      assert.deepEqual(JSON.parse(json), decodeFromStorage(kv(bytes, 42)));
    }
  });

  it('reads bytes of another shape (an older skiff) through the slow path', () => {
    const bytes = enc.encode('{"kind":"Pod","metadata":{"name":"a"},"apiVersion":"v1"}');
    assert.equal(storedHead(bytes), null);
    const e = CachedEvent.added(kv(bytes, 5));
    assert.equal(e.apiVersion, 'v1');
    const line = JSON.parse(e.line('ADDED').toString('utf8'));
    assert.deepEqual(line, {
      type: 'ADDED',
      object: { kind: 'Pod', metadata: { name: 'a', resourceVersion: '5' }, apiVersion: 'v1' },
    });
    const escaped = enc.encode('{"apiVersion":"v\\u0031","kind":"Pod","metadata":{}}');
    assert.equal(storedHead(escaped), null);
  });

  it('a cached event decodes only when read, and copies are fresh', () => {
    const bytes = encodeForStorage({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' } } as KubeObject);
    const e = CachedEvent.added(kv(bytes, 3));
    const line = JSON.parse(e.line('MODIFIED').toString('utf8'));
    assert.deepEqual(line.object, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { resourceVersion: '3', name: 'a' },
    });
    const c1 = e.copy();
    c1.metadata.name = 'changed';
    assert.equal(e.object.metadata.name, 'a');
    assert.notEqual(e.copy(), e.object);
    assert.equal(e.copy().metadata.resourceVersion, '3');
  });

  it('gives the JSON of an object just written from its stored bytes, only while it shows that revision', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a', namespace: 'ns', labels: { app: 'x' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    } as unknown as KubeObject;
    assert.equal(writtenJson(obj), undefined, 'never written');
    const bytes = encodeForStorage(obj);
    noteWritten(obj, bytes, 12);
    assert.equal(writtenJson(obj), undefined, 'resourceVersion not yet set to the revision written');
    obj.metadata.resourceVersion = '12';
    const pieces = writtenJson(obj);
    assert.ok(pieces);
    assert.deepEqual(JSON.parse(Buffer.concat(pieces).toString('utf8')), JSON.parse(JSON.stringify(obj)));
    obj.metadata.resourceVersion = '13';
    assert.equal(writtenJson(obj), undefined, 'another revision');
    const other = { ...obj, metadata: { ...obj.metadata, resourceVersion: '12' } } as KubeObject;
    assert.equal(writtenJson(other), undefined, 'a copy is not the object written');
  });

  it('gives nothing for stored bytes of another shape', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a', resourceVersion: '3' },
    } as KubeObject;
    noteWritten(obj, enc.encode('{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}}'), 3);
    assert.equal(writtenJson(obj), undefined);
  });
});
