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
