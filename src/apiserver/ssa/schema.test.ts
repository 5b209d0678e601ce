import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pathString } from './fieldpath.ts';
import {
  builtinSchema,
  deducedSchema,
  type OpenApiSchemaObject,
  openApiSchema,
  type SsaSchema,
} from './schema.ts';
import { toFieldSet } from './typed.ts';

function at(s: SsaSchema, ...path: (string | number)[]): SsaSchema {
  return path.reduce<SsaSchema>((cur, k) => (typeof k === 'number' ? cur.item() : cur.field(k)), s);
}

describe('builtinSchema', () => {
  it('follows the patch tags, with Kubernetes list-map keys where they differ', () => {
    const pod = builtinSchema('v1', 'Pod')!;
    const containers = at(pod, 'spec', 'containers');
    assert.equal(containers.listType(), 'map');
    assert.deepEqual(containers.listMapKeys(), ['name']);
    const ports = at(containers, 0, 'ports');
    assert.deepEqual(ports.listMapKeys(), ['containerPort', 'protocol']);
    assert.equal(ports.listMapKeyDefault('protocol'), 'TCP');
    assert.equal(at(pod, 'spec', 'tolerations').listType(), 'atomic');
    assert.equal(at(pod, 'metadata', 'finalizers').listType(), 'set');
    assert.equal(at(pod, 'status', 'hostIPs').listType(), 'atomic');
    assert.deepEqual(at(pod, 'spec', 'topologySpreadConstraints').listMapKeys(), [
      'topologyKey',
      'whenUnsatisfiable',
    ]);
    assert.deepEqual(at(containers, 0, 'resources', 'claims').listMapKeys(), ['name']);
  });

  it('makes selectors and object references atomic', () => {
    const dep = builtinSchema('apps/v1', 'Deployment')!;
    assert.equal(at(dep, 'spec', 'selector').mapType(), 'atomic');
    assert.equal(at(dep, 'spec', 'template', 'spec', 'nodeSelector').mapType(), 'atomic');
    assert.equal(at(dep, 'spec', 'template', 'spec', 'imagePullSecrets', 0).mapType(), 'atomic');
    assert.equal(at(dep, 'metadata', 'ownerReferences', 0).mapType(), 'atomic');
    assert.equal(at(dep, 'spec', 'template').mapType(), 'granular');
    assert.equal(at(builtinSchema('batch/v1', 'Job')!, 'status', 'conditions').listType(), 'atomic');
    assert.equal(at(builtinSchema('v1', 'Service')!, 'spec', 'selector').mapType(), 'atomic');
  });

  it('knows the Go struct fields that are never absent', () => {
    const dep = builtinSchema('apps/v1', 'Deployment')!;
    assert.deepEqual(dep.zeroFields(), { metadata: {}, spec: {}, status: {} });
    assert.deepEqual(at(dep, 'spec', 'template', 'spec').zeroFields().containers, []);
    assert.deepEqual(at(dep, 'spec', 'template', 'spec', 'containers', 0).zeroFields(), { resources: {} });
  });

  it('is undefined for custom resource groups', () => {
    assert.equal(builtinSchema('example.com/v1', 'Widget'), undefined);
    assert.equal(deducedSchema.field('x').listType(), 'atomic');
  });
});

describe('openApiSchema', () => {
  const ref = (name: string) => ({ allOf: [{ $ref: `#/components/schemas/${name}` }] });
  const schemas: Record<string, OpenApiSchemaObject> = {
    PodSpec: {
      type: 'object',
      properties: {
        containers: {
          type: 'array',
          items: ref('Container'),
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
        volumes: {
          type: 'array',
          items: { type: 'object', properties: { name: { type: 'string' } } },
          'x-kubernetes-patch-strategy': 'merge,retainKeys',
          'x-kubernetes-patch-merge-key': 'name',
        },
        nodeSelector: {
          type: 'object',
          additionalProperties: { type: 'string' },
          'x-kubernetes-map-type': 'atomic',
        },
        affinity: ref('LabelSelector'),
      },
    },
    Container: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        ports: {
          type: 'array',
          items: ref('ContainerPort'),
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
        },
      },
    },
    ContainerPort: {
      type: 'object',
      properties: { containerPort: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } },
    },
    LabelSelector: {
      type: 'object',
      'x-kubernetes-map-type': 'atomic',
      properties: { matchLabels: { type: 'object' } },
    },
  };
  const spec = openApiSchema(ref('PodSpec'), (r) => schemas[r.replace('#/components/schemas/', '')]);

  it('resolves references, list types, patch-strategy fallbacks, map types and key defaults', () => {
    const v = {
      containers: [{ name: 'a', ports: [{ containerPort: 80 }] }],
      volumes: [{ name: 'v' }],
      nodeSelector: { zone: 'z' },
      affinity: { matchLabels: { a: 'b' } },
    };
    assert.deepEqual(toFieldSet(v, spec).paths().map(pathString), [
      '.affinity',
      '.nodeSelector',
      '.containers[name="a"]',
      '.containers[name="a"].name',
      '.containers[name="a"].ports[containerPort=80,protocol="TCP"]',
      '.containers[name="a"].ports[containerPort=80,protocol="TCP"].containerPort',
      '.volumes[name="v"]',
      '.volumes[name="v"].name',
    ]);
  });
});
