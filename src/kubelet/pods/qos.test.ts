import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { qosClass } from './qos.ts';

function pod(...containers: Partial<Container>[]): Pod {
  return { spec: { containers: containers.map((c, i) => ({ name: `c${i}`, ...c })) } };
}

test('qosClass: BestEffort, Burstable and Guaranteed as Kubernetes classifies them', () => {
  assert.equal(qosClass(pod({})), 'BestEffort');
  assert.equal(qosClass(pod({ resources: { limits: { 'ephemeral-storage': '1Gi' } } })), 'BestEffort');
  assert.equal(qosClass(pod({ resources: { requests: { cpu: '100m' } } })), 'Burstable');
  // Limits alone (before API defaulting copies them to requests) count as Burstable, as upstream.
  assert.equal(qosClass(pod({ resources: { limits: { cpu: '1', memory: '1Gi' } } })), 'Burstable');
  assert.equal(
    qosClass(
      pod({ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }),
    ),
    'Guaranteed',
  );
  // 1000m equals 1.
  assert.equal(
    qosClass(
      pod({
        resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      }),
    ),
    'Guaranteed',
  );
  assert.equal(
    qosClass(
      pod({ resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }),
    ),
    'Burstable',
  );
  // Only cpu limited: not Guaranteed.
  assert.equal(qosClass(pod({ resources: { limits: { cpu: '1' } } })), 'Burstable');
  // One container without limits makes the pod Burstable.
  assert.equal(
    qosClass(
      pod({ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }, {}),
    ),
    'Burstable',
  );
});

test('qosClass: init containers count', () => {
  const g = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
  assert.equal(qosClass(pod({ resources: g })), 'Guaranteed');
  const p = pod({ resources: g });
  p.spec!.initContainers = [{ name: 'i', resources: { requests: { memory: '10Mi' } } }];
  assert.equal(qosClass(p), 'Burstable');
});
