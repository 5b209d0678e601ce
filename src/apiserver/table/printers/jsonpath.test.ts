import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findResults, JsonPathError, parseJsonPath } from './jsonpath.ts';

const doc = {
  metadata: { name: 'db', labels: { 'app.kubernetes.io/name': 'pg', tier: 'data' } },
  spec: {
    replicas: 3,
    ports: [{ name: 'pg', port: 5432 }, { name: 'metrics', port: 9187 }, { name: 'admin' }],
  },
  status: {
    conditions: [
      { type: 'Ready', status: 'True', reason: 'AllGood' },
      { type: 'Progressing', status: 'False' },
      { type: 'Ready', status: 'Unknown' },
    ],
    phase: null,
  },
};

const find = (path: string, root: unknown = doc) => findResults(parseJsonPath(path), root);

describe('jsonpath', () => {
  it('follows fields', () => {
    assert.deepEqual(find('.spec.replicas'), [3]);
    assert.deepEqual(find('{.metadata.name}'), ['db']);
    assert.deepEqual(find('$.metadata.name'), ['db']);
    assert.deepEqual(find('.status.phase'), [null]);
    assert.deepEqual(find('.spec'), [doc.spec]);
  });

  it('yields nothing for missing keys and fields of non-objects', () => {
    assert.deepEqual(find('.spec.missing'), []);
    assert.deepEqual(find('.spec.replicas.deeper'), []);
    assert.deepEqual(find('.spec.ports.name'), []);
    assert.deepEqual(find('.a.b.c', null), []);
  });

  it('reads quoted and escaped keys', () => {
    assert.deepEqual(find(".metadata.labels['app.kubernetes.io/name']"), ['pg']);
    assert.deepEqual(find('.metadata.labels["tier"]'), ['data']);
    assert.deepEqual(find('.metadata.labels.app\\.kubernetes\\.io/name'), ['pg']);
    assert.deepEqual(find("['metadata']['name']"), ['db']);
  });

  it('indexes, slices and unions arrays', () => {
    assert.deepEqual(find('.spec.ports[0].port'), [5432]);
    assert.deepEqual(find('.spec.ports[-1].name'), ['admin']);
    assert.deepEqual(find('.spec.ports[5].name'), []);
    assert.deepEqual(find('.spec.ports[0:2].name'), ['pg', 'metrics']);
    assert.deepEqual(find('.spec.ports[1:].name'), ['metrics', 'admin']);
    assert.deepEqual(find('.spec.ports[0,2].name'), ['pg', 'admin']);
    assert.deepEqual(find('.spec.ports[*].port'), [5432, 9187]);
    assert.deepEqual(find('.metadata.labels.*'), ['pg', 'data']);
  });

  it('filters arrays', () => {
    assert.deepEqual(find('.status.conditions[?(@.type=="Ready")].status'), ['True', 'Unknown']);
    assert.deepEqual(find(".status.conditions[?(@.type == 'Progressing')].status"), ['False']);
    assert.deepEqual(find('.status.conditions[?(@.type!="Ready")].type'), ['Progressing']);
    assert.deepEqual(find('.status.conditions[?(@.reason)].reason'), ['AllGood']);
    assert.deepEqual(find('.spec.ports[?(@.port > 6000)].name'), ['metrics']);
    assert.deepEqual(find('.spec.ports[?(@.port<=5432)].name'), ['pg']);
    assert.deepEqual(find('.status.conditions[?(@.type=="Nope")].status'), []);
  });

  it('fails the whole evaluation when a filter compares different kinds, as Kubernetes does', () => {
    assert.deepEqual(find('.spec.ports[?(@.port=="5432")].name'), []);
  });

  it('descends recursively', () => {
    assert.deepEqual(find('..port'), [5432, 9187]);
    assert.deepEqual(find('..status'), [doc.status, 'True', 'False', 'Unknown']);
  });

  it('rejects malformed paths', () => {
    assert.throws(() => parseJsonPath('.spec.ports[0'), JsonPathError);
    assert.throws(() => parseJsonPath('.spec.ports[abc]'), JsonPathError);
    assert.throws(() => parseJsonPath('.spec.ports[?(@.a ==)]'), JsonPathError);
    assert.throws(() => parseJsonPath('.spec)'), JsonPathError);
  });
});
