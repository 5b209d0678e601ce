import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from '../../../api/errors.ts';
import { validateStructural } from './structural.ts';
import type { JSONSchemaProps } from './types.ts';

// Cases and expected violations from Kubernetes' own test of structural schemas
// (test/integration/apiserver/apiextensions: TestNonStructuralSchemaConditionForCRDV1Beta1MigratedData).
const P = 'spec.versions[0].schema.openAPIV3Schema';

function violations(schema: JSONSchemaProps): string[] {
  return validateStructural(new FieldPath(P), schema).map(String);
}

function sorted(list: string[]): string[] {
  return [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

test('a type everywhere, with the level named', () => {
  assert.deepEqual(violations({ type: '' }), [`${P}.type: Required value: must not be empty at the root`]);
  assert.deepEqual(violations({ type: 'integer' }), [
    `${P}.type: Invalid value: "integer": must be object at the root`,
  ]);
  assert.deepEqual(
    violations({
      properties: {
        foo: { properties: { a: {} } },
        bar: { items: { additionalProperties: { properties: { a: {} }, items: {} } } },
        json: { 'x-kubernetes-preserve-unknown-fields': true, properties: { a: {} } },
        'int-or-string': { 'x-kubernetes-int-or-string': true, properties: { a: {} } },
      },
    }),
    sorted([
      `${P}.properties[foo].properties[a].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[foo].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[int-or-string].properties[a].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[json].properties[a].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[bar].items.additionalProperties.items.type: Required value: must not be empty for specified array items`,
      `${P}.properties[bar].items.additionalProperties.properties[a].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[bar].items.additionalProperties.type: Required value: must not be empty for specified object fields`,
      `${P}.properties[bar].items.type: Required value: must not be empty for specified array items`,
      `${P}.properties[bar].type: Required value: must not be empty for specified object fields`,
      `${P}.type: Required value: must not be empty at the root`,
    ]),
  );
});

test('arrays need items; the root has no additionalProperties', () => {
  assert.deepEqual(violations({ type: 'object', properties: { slice: { type: 'array' } } }), [
    `${P}.properties[slice].items: Required value: must be specified`,
  ]);
  assert.deepEqual(violations({ type: 'object', additionalProperties: false }), [
    `${P}.additionalProperties: Forbidden: must not be used at the root`,
  ]);
});

test('value validations carry no type, additionalProperties, title, description or nullable', () => {
  const bad: JSONSchemaProps = {
    type: 'string',
    additionalProperties: true,
    title: 'hello',
    description: 'world',
    nullable: true,
  };
  const got = violations({
    type: 'object',
    properties: { foo: { type: 'string' } },
    not: bad,
    allOf: [{ properties: { foo: bad } }],
  });
  assert.deepEqual(
    got,
    sorted([
      `${P}.allOf[0].properties[foo].type: Forbidden: must be empty to be structural`,
      `${P}.allOf[0].properties[foo].additionalProperties: Forbidden: must be undefined to be structural`,
      `${P}.allOf[0].properties[foo].title: Forbidden: must be empty to be structural`,
      `${P}.allOf[0].properties[foo].description: Forbidden: must be empty to be structural`,
      `${P}.allOf[0].properties[foo].nullable: Forbidden: must be false to be structural`,
      `${P}.not.type: Forbidden: must be empty to be structural`,
      `${P}.not.additionalProperties: Forbidden: must be undefined to be structural`,
      `${P}.not.title: Forbidden: must be empty to be structural`,
      `${P}.not.description: Forbidden: must be empty to be structural`,
      `${P}.not.nullable: Forbidden: must be false to be structural`,
    ]),
  );
});

test('int-or-string may carry the anyOf [integer, string] pattern, nothing else typed', () => {
  const got = violations({
    type: 'object',
    properties: {
      a: { 'x-kubernetes-int-or-string': true },
      b: {
        'x-kubernetes-int-or-string': true,
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        allOf: [{ pattern: 'abc' }],
      },
      c: {
        'x-kubernetes-int-or-string': true,
        allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, { pattern: 'abc' }],
      },
      g: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'string' }, { type: 'integer' }] },
    },
  });
  assert.deepEqual(got, [
    `${P}.properties[g].anyOf[0].type: Forbidden: must be empty to be structural`,
    `${P}.properties[g].anyOf[1].type: Forbidden: must be empty to be structural`,
  ]);
});

test('what a junctor constrains must be specified', () => {
  const got = violations({
    type: 'object',
    properties: {
      b: { type: 'object', properties: { b: { type: 'array' } } },
      c: { type: 'array', items: { type: 'object' } },
      d: { type: 'array' },
    },
    not: {
      properties: {
        a: {},
        b: { not: { properties: { a: {}, b: { items: {} } } } },
        c: { items: { not: { items: { properties: { a: {} } } } } },
        d: { items: {} },
      },
    },
    anyOf: [{ properties: { f: {} } }],
  });
  assert.deepEqual(
    got,
    sorted([
      `${P}.properties[b].properties[b].items: Required value: must be specified`,
      `${P}.properties[d].items: Required value: must be specified`,
      `${P}.properties[d].items: Required value: because it is defined in ${P}.not.properties[d].items`,
      `${P}.properties[a]: Required value: because it is defined in ${P}.not.properties[a]`,
      `${P}.properties[b].properties[a]: Required value: because it is defined in ${P}.not.properties[b].not.properties[a]`,
      `${P}.properties[b].properties[b].items: Required value: because it is defined in ${P}.not.properties[b].not.properties[b].items`,
      `${P}.properties[c].items.items: Required value: because it is defined in ${P}.not.properties[c].items.not.items`,
      `${P}.properties[f]: Required value: because it is defined in ${P}.anyOf[0].properties[f]`,
    ]),
  );
});

test('root metadata may only restrict name and generateName', () => {
  assert.deepEqual(
    violations({
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' } } },
      },
    }),
    [],
  );
  assert.deepEqual(
    violations({
      type: 'object',
      properties: {
        metadata: { properties: { name: { pattern: '^[a-z]+$' }, labels: { type: 'object', maxLength: 4 } } },
      },
    }),
    [
      `${P}.properties[metadata].properties[name].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[metadata].type: Invalid value: "": must be object`,
      `${P}.properties[metadata].type: Required value: must not be empty for specified object fields`,
      `${P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ],
  );
  assert.deepEqual(
    violations({
      type: 'object',
      properties: { metadata: { type: 'object' } },
      allOf: [{ properties: { metadata: {} } }],
    }),
    [`${P}.allOf[0].properties[metadata]: Forbidden: must not be specified in a nested context`],
  );
});

test('x-kubernetes-embedded-resource is an object with properties or preserve-unknown-fields', () => {
  assert.deepEqual(violations({ type: 'object', 'x-kubernetes-embedded-resource': true }), [
    `${P}.properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields`,
  ]);
  assert.deepEqual(
    violations({
      type: 'object',
      properties: {
        raw: {
          type: 'string',
          'x-kubernetes-embedded-resource': true,
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
    }),
    [
      `${P}.properties[raw].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
    ],
  );
  assert.deepEqual(
    violations({
      type: 'object',
      properties: {
        template: {
          type: 'object',
          'x-kubernetes-embedded-resource': true,
          properties: { kind: { type: 'integer' }, metadata: { type: 'object' } },
        },
      },
    }),
    [`${P}.properties[template].properties[kind].type: Invalid value: "integer": must be string`],
  );
});
