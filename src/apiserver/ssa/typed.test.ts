import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Json } from '../patch/json.ts';
import { FieldSet, fieldPath, keyPE, pathString } from './fieldpath.ts';
import { builtinSchema, crdSchema, deducedSchema } from './schema.ts';
import { compare, merge, removeItems, toFieldSet, validate } from './typed.ts';

const pod = builtinSchema('v1', 'Pod')!;
const deploy = builtinSchema('apps/v1', 'Deployment')!;
const paths = (s: FieldSet) => s.paths().map(pathString);

describe('toFieldSet', () => {
  it('owns leaves and list items, not struct fields or empty objects', () => {
    const v = {
      metadata: { labels: { app: 'a' }, finalizers: ['x'] },
      spec: {
        containers: [{ name: 'c', image: 'i', args: ['a', 'b'], ports: [{ containerPort: 80 }] }],
        securityContext: {},
      },
    };
    assert.deepEqual(paths(toFieldSet(v, pod)), [
      '.metadata.finalizers[="x"]',
      '.metadata.labels.app',
      '.spec.containers[name="c"]',
      '.spec.containers[name="c"].args',
      '.spec.containers[name="c"].image',
      '.spec.containers[name="c"].name',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]',
      '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]);
  });

  it('owns an atomic object (a label selector) as one leaf', () => {
    const v = { spec: { selector: { matchLabels: { app: 'a' } } } };
    assert.deepEqual(paths(toFieldSet(v, deploy)), ['.spec.selector']);
  });

  it('owns map keys (not struct fields) as members in deduced values', () => {
    assert.deepEqual(paths(toFieldSet({ spec: { a: { b: 1 } } }, deducedSchema)), [
      '.spec',
      '.spec.a',
      '.spec.a.b',
    ]);
  });
});

describe('merge', () => {
  it('merges map lists by key and keeps live order, adding new items', () => {
    const live = {
      spec: {
        containers: [
          { name: 'a', image: '1' },
          { name: 'b', image: '2' },
        ],
      },
    };
    const cfg = {
      spec: {
        containers: [
          { name: 'c', image: '3' },
          { name: 'a', image: '9' },
        ],
      },
    };
    assert.deepEqual(merge(live, cfg, pod), {
      spec: {
        containers: [
          { name: 'c', image: '3' },
          { name: 'a', image: '9' },
          { name: 'b', image: '2' },
        ],
      },
    });
  });

  it('replaces atomic lists and objects whole, merges sets', () => {
    const live = { metadata: { finalizers: ['a'] }, spec: { selector: { matchLabels: { x: '1' } } } };
    const cfg = { metadata: { finalizers: ['b'] }, spec: { selector: { matchExpressions: [] } } };
    assert.deepEqual(merge(live, cfg, deploy), {
      metadata: { finalizers: ['a', 'b'] },
      spec: { selector: { matchExpressions: [] } },
    });
    assert.deepEqual(merge({ args: ['a', 'b'] }, { args: ['c'] }, deducedSchema), { args: ['c'] });
  });
});

describe('compare', () => {
  it('reports added, modified and removed leaves and whole items; Go struct fields count as present', () => {
    const before = { data: { a: '1', b: '2' }, spec: { containers: [{ name: 'x', image: '1' }] } };
    const after = { data: { a: '9', c: '3' }, spec: { containers: [{ name: 'y', image: '1' }] } };
    const c = compare(before, after, pod);
    assert.deepEqual(paths(c.modified), ['.data.a']);
    const item = (n: string) => [
      `.spec.containers[name="${n}"]`,
      `.spec.containers[name="${n}"].image`,
      `.spec.containers[name="${n}"].name`,
      `.spec.containers[name="${n}"].resources`,
    ];
    assert.deepEqual(paths(c.added), ['.data.c', ...item('y')]);
    assert.deepEqual(paths(c.removed), ['.data.b', ...item('x')]);
  });
});

describe('removeItems', () => {
  it('removes members with what is below them and drops emptied containers', () => {
    const v: Json = {
      metadata: { labels: { a: '1' } },
      spec: { containers: [{ name: 'x' }, { name: 'y', image: 'i' }] },
    };
    const set = FieldSet.of(
      fieldPath('metadata', 'labels', 'a'),
      [...fieldPath('spec', 'containers'), keyPE([['name', 'x']])],
      [...fieldPath('spec', 'containers'), keyPE([['name', 'y']]), ...fieldPath('image')],
    );
    assert.deepEqual(removeItems(v, set, pod), { spec: { containers: [{ name: 'y' }] } });
  });
});

describe('validate', () => {
  it('rejects duplicate keys in map lists, as structured-merge-diff words it', () => {
    const v = { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } as Json;
    assert.throws(() => validate(v, pod), {
      message: '.spec.containers: duplicate entries for key [name="a"]',
    });
  });
});

describe('CRD schemas', () => {
  const schema = crdSchema({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          items: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['id'],
            items: { type: 'object', properties: { id: { type: 'string' }, v: { type: 'integer' } } },
          },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          plain: { type: 'array', items: { type: 'string' } },
          ref: {
            type: 'object',
            'x-kubernetes-map-type': 'atomic',
            properties: { name: { type: 'string' } },
          },
          extra: {
            type: 'object',
            additionalProperties: { type: 'object', properties: { x: { type: 'string' } } },
          },
        },
      },
    },
  });

  it('follow x-kubernetes-list-type, list-map-keys and map-type; lists default to atomic', () => {
    const v = {
      metadata: { labels: { a: 'b' }, finalizers: ['f'] },
      spec: {
        items: [{ id: 'a', v: 1 }],
        tags: ['t'],
        plain: ['p'],
        ref: { name: 'n' },
        extra: { k: { x: 'y' } },
      },
    };
    assert.deepEqual(paths(toFieldSet(v, schema)), [
      '.metadata.finalizers[="f"]',
      '.metadata.labels.a',
      '.spec.plain',
      '.spec.ref',
      '.spec.extra.k',
      '.spec.extra.k.x',
      '.spec.items[id="a"]',
      '.spec.items[id="a"].id',
      '.spec.items[id="a"].v',
      '.spec.tags[="t"]',
    ]);
    assert.deepEqual(merge({ spec: { plain: ['a'] } }, { spec: { plain: ['b'] } }, schema), {
      spec: { plain: ['b'] },
    });
  });
});
