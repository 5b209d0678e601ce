import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AGE_COLUMN, NAME_COLUMN } from '../table.ts';
import { crdPrinter } from './crd.ts';
import { ago, HOUR, MINUTE, NOW, obj } from './testing.ts';

const certificate = obj('web-tls', 2 * HOUR, {
  spec: {
    secretName: 'web-tls',
    dnsNames: ['a.example.com', 'b.example.com'],
    replicas: 2,
    ratio: 0.25,
    big: 1234567.5,
    paused: false,
  },
  status: {
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(90 * MINUTE) }],
    notAfter: '2024-07-30T12:00:00Z',
    renewed: ago(5 * MINUTE),
    info: { b: '<x>', a: 1 },
  },
});

describe('crd printer', () => {
  it('prints NAME and AGE when the version has no printer columns', () => {
    for (const cols of [undefined, null, []]) {
      const p = crdPrinter(cols);
      assert.deepEqual(
        p.columns.map((c) => [c.name, c.type, c.priority]),
        [
          ['Name', 'string', 0],
          ['Age', 'date', 0],
        ],
      );
      assert.equal(p.columns[1]?.description, AGE_COLUMN.description);
      assert.deepEqual(p.row(certificate, NOW), ['web-tls', '120m']);
    }
  });

  it('prints additional printer columns by type', () => {
    const p = crdPrinter([
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Secret', type: 'string', jsonPath: '.spec.secretName', description: 'The secret' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio', priority: 1 },
      { name: 'Paused', type: 'boolean', jsonPath: '.spec.paused' },
      { name: 'Renewed', type: 'date', jsonPath: '.status.renewed' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
    assert.deepEqual(p.columns[0], NAME_COLUMN);
    assert.deepEqual(p.columns[1], {
      name: 'Ready',
      type: 'string',
      format: '',
      description:
        'Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=="Ready")].status',
      priority: 0,
    });
    assert.equal(p.columns[2]?.description, 'The secret');
    assert.equal(p.columns[4]?.priority, 1);
    assert.deepEqual(p.row(certificate, NOW), ['web-tls', 'True', 'web-tls', 2, 0.25, false, '5m', '120m']);
  });

  it('prints null for missing values and values of the wrong type', () => {
    const p = crdPrinter([
      { name: 'Missing', type: 'string', jsonPath: '.status.nothing' },
      { name: 'NotANumber', type: 'integer', jsonPath: '.spec.secretName' },
      { name: 'NotABool', type: 'boolean', jsonPath: '.spec.replicas' },
      { name: 'NotADate', type: 'date', jsonPath: '.spec.replicas' },
      { name: 'BadDate', type: 'date', jsonPath: '.spec.secretName' },
      { name: 'Truncated', type: 'integer', jsonPath: '.spec.ratio' },
      { name: 'BadPath', type: 'string', jsonPath: '.spec[' },
    ]);
    assert.deepEqual(p.row(certificate, NOW), ['web-tls', null, null, null, null, '<invalid>', 0, null]);
  });

  it('renders non-string values in string columns as JSONPath prints them', () => {
    const p = crdPrinter([
      { name: 'Names', type: 'string', jsonPath: '.spec.dnsNames' },
      { name: 'First', type: 'string', jsonPath: '.spec.dnsNames[*]' },
      { name: 'Replicas', type: 'string', jsonPath: '.spec.replicas' },
      { name: 'Big', type: 'string', jsonPath: '.spec.big' },
      { name: 'Paused', type: 'string', jsonPath: '.spec.paused' },
      { name: 'Info', type: 'string', jsonPath: '.status.info' },
    ]);
    assert.deepEqual(p.row(certificate, NOW), [
      'web-tls',
      '["a.example.com","b.example.com"]',
      'a.example.com',
      '2',
      '1.2345675e+06',
      'false',
      '{"a":1,"b":"\\u003cx\\u003e"}',
    ]);
  });

  it('prints future dates and dates of an unnamed object', () => {
    const p = crdPrinter([{ name: 'Expires', type: 'date', jsonPath: '.status.notAfter' }]);
    assert.deepEqual(p.row(certificate, NOW), ['web-tls', '<invalid>']);
    assert.deepEqual(p.row({ metadata: {} }, NOW), ['', null]);
  });
});
