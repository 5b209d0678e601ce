import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  comparePE,
  compareStrings,
  FieldSet,
  FieldsV1Error,
  fieldPath,
  fieldPE,
  indexPE,
  keyPE,
  pathString,
  serializePE,
  valuePE,
} from './fieldpath.ts';

const containers = fieldPath('spec', 'containers');
const nginx = keyPE([['name', 'nginx']]);

describe('path elements', () => {
  it('serialize as FieldsV1 keys, list-map key fields sorted by name', () => {
    assert.equal(serializePE(fieldPE('data')), 'f:data');
    assert.equal(
      serializePE(
        keyPE([
          ['protocol', 'TCP'],
          ['containerPort', 80],
        ]),
      ),
      'k:{"containerPort":80,"protocol":"TCP"}',
    );
    assert.equal(serializePE(valuePE('foo')), 'v:"foo"');
    assert.equal(serializePE(indexPE(3)), 'i:3');
    assert.equal(serializePE(valuePE('<a&b>')), 'v:"\\u003ca\\u0026b\\u003e"');
  });

  it('print as conflict paths', () => {
    assert.equal(
      pathString([...containers, nginx, fieldPE('image')]),
      '.spec.containers[name="nginx"].image',
    );
    assert.equal(
      pathString([
        keyPE([
          ['containerPort', 80],
          ['protocol', 'TCP'],
        ]),
      ]),
      '[containerPort=80,protocol="TCP"]',
    );
    assert.equal(pathString([fieldPE('finalizers'), valuePE('a')]), '.finalizers[="a"]');
    assert.equal(pathString([fieldPE('args'), indexPE(0)]), '.args[0]');
  });

  it('order fields < keys < values < indexes, values numbers < strings < booleans', () => {
    assert.ok(comparePE(fieldPE('z'), keyPE([['a', 1]])) < 0);
    assert.ok(comparePE(keyPE([['a', 1]]), valuePE(1)) < 0);
    assert.ok(comparePE(valuePE(1), indexPE(0)) < 0);
    assert.ok(comparePE(valuePE(5), valuePE('a')) < 0);
    assert.ok(comparePE(valuePE('a'), valuePE(true)) < 0);
    assert.ok(comparePE(fieldPE('B'), fieldPE('a')) < 0);
  });
});

describe('FieldSet', () => {
  it('writes FieldsV1 with "." first for a member that has children, keys sorted', () => {
    const s = FieldSet.of(
      [...containers, nginx],
      [...containers, nginx, fieldPE('name')],
      [...containers, nginx, fieldPE('image')],
      fieldPath('data', 'b'),
      fieldPath('data', 'a'),
    );
    assert.equal(
      JSON.stringify(s.toFieldsV1()),
      '{"f:data":{"f:a":{},"f:b":{}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:name":{}}}}}',
    );
  });

  it('reads FieldsV1 back, dropping element types it does not know', () => {
    const v1 = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } } },
      'x:future': {},
    };
    const s = FieldSet.fromFieldsV1(v1);
    assert.ok(s.has(fieldPath('metadata', 'labels')));
    assert.ok(s.has(fieldPath('metadata', 'labels', 'app')));
    assert.ok(
      s.has([
        ...fieldPath('spec', 'ports'),
        keyPE([
          ['port', 80],
          ['protocol', 'TCP'],
        ]),
      ]),
    );
    assert.ok(!s.has(fieldPath('spec')));
    const { 'x:future': _, ...known } = v1;
    assert.deepEqual(s.toFieldsV1(), known);
    assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 5 }), FieldsV1Error);
    assert.throws(() => FieldSet.fromFieldsV1({ x: {} }), FieldsV1Error);
  });

  it('union, intersection and difference work on paths; recursiveDifference also drops what is below', () => {
    const a = FieldSet.of(fieldPath('a'), fieldPath('b', 'c'), fieldPath('b', 'd'));
    const b = FieldSet.of(fieldPath('b', 'c'), fieldPath('e'));
    assert.deepEqual(a.union(b).paths().map(pathString), ['.a', '.e', '.b.c', '.b.d']);
    assert.deepEqual(a.intersection(b).paths().map(pathString), ['.b.c']);
    assert.deepEqual(a.difference(b).paths().map(pathString), ['.a', '.b.d']);
    const status = FieldSet.of(fieldPath('b'));
    assert.deepEqual(a.difference(status).paths().map(pathString), ['.a', '.b.c', '.b.d']);
    assert.deepEqual(a.recursiveDifference(status).paths().map(pathString), ['.a']);
    assert.ok(a.difference(a).empty());
  });
});

describe('compareStrings', () => {
  /** The reference: code point by code point (lone surrogates as themselves). */
  function byCodePoints(a: string, b: string): number {
    const x = [...a].map((c) => c.codePointAt(0) ?? 0);
    const y = [...b].map((c) => c.codePointAt(0) ?? 0);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number) ? -1 : 1;
    }
    return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
  }

  it('orders as code points (UTF-8 bytes), surrogates and lone surrogates included', () => {
    const units = [0x41, 0x61, 0xe4, 0xd7ff, 0xd835, 0xdd18, 0xdbff, 0xdfff, 0xe000, 0xff21, 0xffff];
    let seed = 1;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const gen = () =>
      String.fromCharCode(
        ...Array.from(
          { length: Math.floor(rand() * 4) },
          () => units[Math.floor(rand() * units.length)] as number,
        ),
      );
    for (let i = 0; i < 20000; i++) {
      const a = gen();
      const b = rand() < 0.3 ? a + gen() : gen();
      assert.equal(compareStrings(a, b), byCodePoints(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });
});
