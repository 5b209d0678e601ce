import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Pod, rfc3339 } from '../util/pods.ts';
import { getPodsToDelete, POD_DELETION_COST_ANNOTATION } from './pod-ranking.ts';

const NOW = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;

interface PodOpts {
  node?: string;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  created?: number;
  restarts?: number;
  cost?: number;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const created = o.created ?? NOW - 10 * HOUR;
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: rfc3339(created),
      annotations: o.cost !== undefined ? { [POD_DELETION_COST_ANNOTATION]: String(o.cost) } : undefined,
    },
    spec: { nodeName: o.node ?? 'n1' },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: (o.ready ?? true) ? 'True' : 'False',
          lastTransitionTime: rfc3339(o.readySince ?? created),
        },
      ],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
    },
  };
}

/** The order in which all of `pods` would be deleted. */
function order(pods: Pod[], related: Pod[] = pods): string[] {
  const out: string[] = [];
  let rest = [...pods];
  while (rest.length > 1) {
    const [first] = getPodsToDelete(rest, related, 1, NOW);
    out.push(first!.metadata.name!);
    rest = rest.filter((p) => p !== first);
  }
  out.push(rest[0]!.metadata.name!);
  return out;
}

describe('getPodsToDelete', () => {
  it('takes unassigned pods before assigned ones', () => {
    assert.deepEqual(order([pod('assigned'), pod('unassigned', { node: '' })]), ['unassigned', 'assigned']);
  });

  it('takes Pending before Unknown before Running', () => {
    assert.deepEqual(
      order([pod('running'), pod('unknown', { phase: 'Unknown' }), pod('pending', { phase: 'Pending' })]),
      ['pending', 'unknown', 'running'],
    );
  });

  it('takes not-ready pods before ready ones', () => {
    assert.deepEqual(order([pod('ready'), pod('notready', { ready: false })]), ['notready', 'ready']);
  });

  it('takes a lower pod-deletion-cost first', () => {
    assert.deepEqual(order([pod('costly', { cost: 100 }), pod('cheap', { cost: -5 }), pod('plain')]), [
      'cheap',
      'plain',
      'costly',
    ]);
  });

  it('takes pods on nodes with more related pods first', () => {
    const a = pod('alone', { node: 'n1' });
    const b = pod('crowded', { node: 'n2' });
    const related = [a, b, pod('other1', { node: 'n2' }), pod('other2', { node: 'n2' })];
    assert.deepEqual(order([a, b], related), ['crowded', 'alone']);
  });

  it('takes pods ready for less time first (on a logarithmic scale)', () => {
    assert.deepEqual(
      order([pod('long', { readySince: NOW - 8 * HOUR }), pod('short', { readySince: NOW - HOUR })]),
      ['short', 'long'],
    );
  });

  it('takes pods with more restarts first', () => {
    assert.deepEqual(order([pod('stable'), pod('flappy', { restarts: 7 })]), ['flappy', 'stable']);
  });

  it('takes newer pods first', () => {
    const old = pod('old', { created: NOW - 40 * HOUR, readySince: NOW - 5 * HOUR });
    const young = pod('young', { created: NOW - 2 * HOUR, readySince: NOW - 5 * HOUR });
    assert.deepEqual(order([old, young]), ['young', 'old']);
  });

  it('ranks by the rules in order: phase beats readiness, readiness beats restarts', () => {
    const pods = [
      pod('ready-running'),
      pod('pending', { phase: 'Pending', ready: false }),
      pod('unready-restarts', { ready: false, restarts: 1 }),
      pod('unready', { ready: false }),
      pod('unscheduled', { node: '', phase: 'Pending', ready: false }),
    ];
    assert.deepEqual(order(pods), ['unscheduled', 'pending', 'unready-restarts', 'unready', 'ready-running']);
  });

  it('returns every pod without ranking when all go', () => {
    const pods = [pod('a'), pod('b')];
    assert.deepEqual(getPodsToDelete(pods, pods, 5, NOW), pods);
  });
});
