import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { bodyEncoding, negotiate, parseAccept } from './negotiate.ts';

const TABLE = ['Table', 'PartialObjectMetadata'];
const json = { encoding: 'json', as: null, pretty: false };

describe('negotiate', () => {
  it('answers JSON to no Accept header, application/json and */*', () => {
    for (const accept of [undefined, '', 'application/json', '*/*', 'application/*', ' application/json ']) {
      assert.deepEqual(negotiate(accept, TABLE), json, String(accept));
    }
  });

  it('answers YAML when asked, and honours pretty', () => {
    assert.deepEqual(negotiate('application/yaml', TABLE), { encoding: 'yaml', as: null, pretty: false });
    assert.deepEqual(negotiate('application/json;pretty=true', TABLE), { ...json, pretty: true });
  });

  it("takes kubectl's Table preference when the endpoint allows it, else the next type", () => {
    const kubectl =
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    assert.deepEqual(negotiate(kubectl, TABLE), { encoding: 'json', as: 'Table', pretty: false });
    assert.deepEqual(negotiate(kubectl, []), json);
    assert.deepEqual(negotiate('application/json;as=Table;v=v2;g=meta.k8s.io,application/yaml', TABLE), {
      encoding: 'yaml',
      as: null,
      pretty: false,
    });
  });

  it('orders by q-value, drops q=0, and refuses what it cannot produce with a 406', () => {
    assert.deepEqual(
      parseAccept('application/json;q=0.5, application/yaml').map((m) => m.type),
      ['application/yaml', 'application/json'],
    );
    assert.deepEqual(negotiate('application/yaml;q=0, application/json', TABLE), json);
    assert.throws(
      () => negotiate('application/vnd.kubernetes.protobuf', TABLE),
      (e) => e instanceof ApiError && e.code === 406,
    );
  });
});

describe('bodyEncoding', () => {
  it('reads JSON, YAML and protobuf bodies and refuses others with a 415', () => {
    assert.equal(bodyEncoding(undefined), 'json');
    assert.equal(bodyEncoding('application/json'), 'json');
    assert.equal(bodyEncoding('application/json; charset=utf-8'), 'json');
    assert.equal(bodyEncoding('Application/JSON'), 'json');
    assert.equal(bodyEncoding('application/yaml'), 'yaml');
    assert.equal(bodyEncoding('application/vnd.kubernetes.protobuf'), 'protobuf');
    assert.throws(
      () => bodyEncoding('text/plain'),
      (e) => e instanceof ApiError && e.code === 415,
    );
  });
});
