import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unknownBuiltinFields } from './unknown.ts';

test('unknown fields of built-in kinds are found by path; maps and int-or-string stay free', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', labels: { anything: 'goes' }, bogusMeta: 1 },
    spec: {
      containers: [
        { name: 'c', image: 'x', imagePullPolcy: 'Always', ports: [{ containerPort: 80, hostPorts: 1 }] },
        {
          name: 'd',
          image: 'y',
          resources: { limits: { cpu: '1', 'example.com/gpu': 2 } },
          livenessProbe: { httpGet: { port: 'http' } },
        },
      ],
      bogus: true,
    },
    status: { phase: 'Running' },
  };
  assert.deepEqual(unknownBuiltinFields('', 'v1', 'Pod', pod), [
    'metadata.bogusMeta',
    'spec.containers[0].imagePullPolcy',
    'spec.containers[0].ports[0].hostPorts',
    'spec.bogus',
  ]);
  assert.deepEqual(
    unknownBuiltinFields('apps', 'v1', 'Deployment', {
      spec: { replicas: 1, strategy: { type: 'Recreate' } },
    }),
    [],
  );
  assert.equal(unknownBuiltinFields('example.com', 'v1', 'Widget', {}), null);
});

test('unknown fields below maps of objects, nested lists and the depth of the walk', () => {
  const crd = {
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { plural: 'widgets', kind: 'Widget', bogusName: 1 },
      scope: 'Namespaced',
      versions: [
        { name: 'v1', served: true, storage: true, extra: 1 },
        {
          name: 'v2',
          served: true,
          storage: false,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer', typo: true } } },
              },
              alsoTypo: 1,
            },
          },
        },
      ],
    },
  };
  assert.deepEqual(unknownBuiltinFields('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', crd), [
    'spec.names.bogusName',
    'spec.versions[0].extra',
    'spec.versions[1].schema.openAPIV3Schema.properties.spec.properties.size.typo',
    'spec.versions[1].schema.openAPIV3Schema.alsoTypo',
  ]);
  // Fields are reported in the object's order, not the schema's; values of the wrong type are skipped.
  assert.deepEqual(
    unknownBuiltinFields('', 'v1', 'ConfigMap', { zzz: 1, data: { a: 'b' }, metadata: 'x', aaa: [{ b: 1 }] }),
    ['zzz', 'aaa'],
  );
  assert.deepEqual(unknownBuiltinFields('', 'v1', 'Pod', { spec: { containers: { 0: { bogus: 1 } } } }), []);
  assert.deepEqual(unknownBuiltinFields('', 'v1', 'Pod', [{ bogus: 1 }]), []);
  assert.deepEqual(unknownBuiltinFields('', 'v1', 'Pod', 'not an object'), []);
  // The same call twice gives the same answer (nothing is kept between calls).
  const pod = { spec: { containers: [{ name: 'c', bogus: 1 }] } };
  assert.deepEqual(unknownBuiltinFields('', 'v1', 'Pod', pod), ['spec.containers[0].bogus']);
  assert.deepEqual(unknownBuiltinFields('', 'v1', 'Pod', pod), ['spec.containers[0].bogus']);
});
