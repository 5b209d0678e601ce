import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileSchema } from './compile.ts';
import type { JSONSchemaProps } from './types.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer', default: 1 },
        strategy: {
          type: 'object',
          default: {},
          properties: { type: { type: 'string', default: 'RollingUpdate' }, maxSurge: { type: 'integer' } },
        },
        probe: { type: 'object', properties: { period: { type: 'integer', default: 10 } } },
        ports: {
          type: 'array',
          items: {
            type: 'object',
            properties: { protocol: { type: 'string', default: 'TCP' }, port: { type: 'integer' } },
          },
        },
        env: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { value: { type: 'string', default: '' } } },
        },
        tags: { type: 'array', default: ['a'], items: { type: 'string' } },
      },
    },
  },
};

describe('applyDefaults', () => {
  test('fills absent fields, and defaults inside defaults', () => {
    const obj: Record<string, unknown> = { spec: {} };
    compileSchema(schema).applyDefaults(obj);
    assert.deepEqual(obj, { spec: { replicas: 1, strategy: { type: 'RollingUpdate' }, tags: ['a'] } });
  });

  test('only where the parent exists', () => {
    const obj: Record<string, unknown> = { metadata: { name: 'x' } };
    compileSchema(schema).applyDefaults(obj);
    assert.deepEqual(obj, { metadata: { name: 'x' } });
  });

  test('keeps values that are set, replaces a non-nullable null', () => {
    const obj = { spec: { replicas: 3, strategy: null, probe: {} } };
    compileSchema(schema).applyDefaults(obj);
    assert.deepEqual(obj.spec, {
      replicas: 3,
      strategy: { type: 'RollingUpdate' },
      probe: { period: 10 },
      tags: ['a'],
    });
  });

  test('list items and map values', () => {
    const obj = {
      spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }], env: { A: {}, B: { value: 'b' } } },
    };
    compileSchema(schema).applyDefaults(obj);
    assert.deepEqual(obj.spec.ports, [
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
    assert.deepEqual(obj.spec.env, { A: { value: '' }, B: { value: 'b' } });
  });

  test('defaults are copies', () => {
    const s = compileSchema(schema);
    const a = { spec: {} as Record<string, unknown> };
    const b = { spec: {} as Record<string, unknown> };
    s.applyDefaults(a);
    s.applyDefaults(b);
    (a.spec.tags as string[]).push('mutated');
    assert.deepEqual(b.spec.tags, ['a']);
  });

  test('a nullable null stays null', () => {
    const s = compileSchema({
      type: 'object',
      properties: {
        spec: { type: 'object', properties: { x: { type: 'string', nullable: true, default: 'd' } } },
      },
    });
    const obj = { spec: { x: null } };
    s.applyDefaults(obj);
    assert.deepEqual(obj.spec, { x: null });
  });
});
