import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  comparePE,
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
