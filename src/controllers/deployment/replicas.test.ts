import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReplicaSet } from '../replicaset/types.ts';
import {
  maxSurge,
  maxUnavailable,
  minAvailable,
  newRSNewReplicas,
  replicaSetProportion,
  resolveFenceposts,
  scaledValue,
} from './replicas.ts';
import type { Deployment, IntOrString } from './types.ts';

function deployment(
  replicas: number,
  surge?: IntOrString,
  unavailable?: IntOrString,
  type = 'RollingUpdate',
): Deployment {
  return {
    metadata: { name: 'd', namespace: 'ns' },
    spec: {
      replicas,
      strategy: {
        type,
        rollingUpdate:
          type === 'RollingUpdate' ? { maxSurge: surge, maxUnavailable: unavailable } : undefined,
      },
    },
  };
}

function rs(replicas: number, annotations: Record<string, string> = {}): ReplicaSet {
  return { metadata: { name: `rs${replicas}`, annotations }, spec: { replicas } };
}

describe('maxSurge / maxUnavailable', () => {
  it('scales percentages: surge rounds up, unavailable rounds down', () => {
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue(4, 10, true), 4);
    assert.throws(() => scaledValue('4', 10, true), /not a percentage/);
    const d = deployment(10);
    assert.equal(maxSurge(d), 3, 'default 25%');
    assert.equal(maxUnavailable(d), 2, 'default 25%');
    assert.equal(minAvailable(d), 8);
  });

  it('makes maxUnavailable 1 when both resolve to zero', () => {
    assert.deepEqual(resolveFenceposts('0%', '25%', 1), { surge: 0, unavailable: 1 });
    assert.equal(maxUnavailable(deployment(3, 0, '10%')), 1);
    assert.equal(maxSurge(deployment(3, 0, '10%')), 0);
  });

  it('caps maxUnavailable at spec.replicas, and is 0 for no replicas or Recreate', () => {
    assert.equal(maxUnavailable(deployment(2, 1, 5)), 2);
    assert.equal(maxUnavailable(deployment(0, 1, 5)), 0);
    assert.equal(maxUnavailable(deployment(4, undefined, undefined, 'Recreate')), 0);
    assert.equal(maxSurge(deployment(4, undefined, undefined, 'Recreate')), 0);
  });
});

describe('newRSNewReplicas', () => {
  it('grows the new ReplicaSet up to spec.replicas + maxSurge in total', () => {
    const d = deployment(10, 3, 2);
    const newRS = rs(0);
    assert.equal(newRSNewReplicas(d, [rs(10), newRS], newRS), 3);
    const grown = rs(3);
    assert.equal(newRSNewReplicas(d, [rs(8), grown], grown), 5);
    assert.equal(newRSNewReplicas(d, [rs(10), grown], grown), 3, 'no room');
  });

  it('never grows past spec.replicas', () => {
    const d = deployment(10, 5, 0);
    const newRS = rs(8);
    assert.equal(newRSNewReplicas(d, [rs(1), newRS], newRS), 10);
  });

  it('is spec.replicas for Recreate', () => {
    const newRS = rs(0);
    assert.equal(newRSNewReplicas(deployment(4, undefined, undefined, 'Recreate'), [rs(4), newRS], newRS), 4);
  });
});

describe('replicaSetProportion', () => {
  it('shares an increase in proportion to the size before (max-replicas)', () => {
    // 10 replicas, surge 3: 13 before; scaled to 20: 25 allowed, 12 to add.
    const d = deployment(20, 5, 5);
    const old = rs(8, { 'deployment.kubernetes.io/max-replicas': '13' });
    const cur = rs(5, { 'deployment.kubernetes.io/max-replicas': '13' });
    const a = replicaSetProportion(old, d, 12, 0);
    const b = replicaSetProportion(cur, d, 12, a);
    assert.deepEqual([a, b], [7, 5]);
  });

  it('never hands out more than is left, and removes everything when scaled to zero', () => {
    const d = deployment(20, 5, 5);
    const big = rs(8, { 'deployment.kubernetes.io/max-replicas': '13' });
    assert.equal(replicaSetProportion(big, d, 3, 0), 3);
    assert.equal(replicaSetProportion(big, deployment(0, 1, 1), -8, 0), -8);
    assert.equal(replicaSetProportion(rs(0), d, 5, 0), 0);
  });
});
