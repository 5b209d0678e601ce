import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { matchingTolerations, swapTaints, toleratesTaint } from './taints.ts';
import { defaultTolerations } from './tolerations.ts';
import type { Pod, Taint } from './types.ts';
import { computeZoneState, RateLimitedTimedQueue, TokenBucket, zoneKey } from './zones.ts';

const t: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };

describe('toleratesTaint', () => {
  it('matches as core/v1 does', () => {
    assert.equal(toleratesTaint({ key: 'k', value: 'v' }, t), true);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Equal', value: 'w' }, t), false);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Exists' }, t), true);
    assert.equal(toleratesTaint({ operator: 'Exists' }, t), true);
    assert.equal(toleratesTaint({ operator: 'Exists', effect: 'NoSchedule' }, t), false);
    assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, t), false);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Bogus' }, t), false);
  });

  it('reports the first toleration used for each taint', () => {
    const taints: Taint[] = [t, { key: 'x', effect: 'NoExecute' }];
    const r = matchingTolerations(taints, [
      { key: 'x', operator: 'Exists', tolerationSeconds: 5 },
      { operator: 'Exists' },
    ]);
    assert.equal(r.allTolerated, true);
    assert.deepEqual(r.used, [
      { operator: 'Exists' },
      { key: 'x', operator: 'Exists', tolerationSeconds: 5 },
    ]);
    assert.equal(matchingTolerations(taints, [{ key: 'k', operator: 'Exists' }]).allTolerated, false);
    assert.equal(matchingTolerations([], undefined).allTolerated, true);
  });

  it('swaps taints by key and effect, stamping added ones', () => {
    const out = swapTaints(
      [{ key: 'a', effect: 'NoExecute' }],
      [{ key: 'b', effect: 'NoExecute' }],
      [{ key: 'a', effect: 'NoExecute' }],
      'T',
    );
    assert.deepEqual(out, [{ key: 'b', effect: 'NoExecute', timeAdded: 'T' }]);
    assert.equal(
      swapTaints([{ key: 'a', effect: 'NoExecute' }], [{ key: 'a', effect: 'NoExecute' }], [], 'T'),
      null,
    );
  });
});

describe('defaultTolerations', () => {
  const base: Pod = { metadata: { name: 'p' }, spec: { containers: [] } };

  it('adds not-ready and unreachable NoExecute tolerations with the default seconds', () => {
    const out = defaultTolerations(base, 300, 200);
    assert.deepEqual(out.spec?.tolerations, [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 200,
      },
    ]);
    assert.equal(base.spec?.tolerations, undefined, 'the input is not modified');
  });

  it('leaves pods that tolerate them already', () => {
    const all: Pod = { ...base, spec: { tolerations: [{ operator: 'Exists' }] } };
    assert.equal(defaultTolerations(all, 300, 300), all);
    const one: Pod = {
      ...base,
      spec: {
        tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 5 }],
      },
    };
    assert.deepEqual(
      defaultTolerations(one, 300, 300).spec?.tolerations?.map((x) => [x.key, x.tolerationSeconds]),
      [
        ['node.kubernetes.io/unreachable', 5],
        ['node.kubernetes.io/not-ready', 300],
      ],
    );
    const noSchedule: Pod = {
      ...base,
      spec: {
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }],
      },
    };
    assert.equal(defaultTolerations(noSchedule, 300, 300).spec?.tolerations?.length, 3);
  });
});

describe('zones', () => {
  it('keys by region and zone labels', () => {
    assert.equal(zoneKey({ metadata: {} }), '');
    assert.equal(
      zoneKey({
        metadata: { labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z' } },
      }),
      'r:\x00:z',
    );
  });

  it('computes zone states', () => {
    const ready = { type: 'Ready', status: 'True' };
    const down = { type: 'Ready', status: 'Unknown' };
    assert.equal(computeZoneState([down, down], 0.55).state, 'FullDisruption');
    assert.equal(computeZoneState([down, down, ready], 0.55).state, 'Normal');
    assert.equal(computeZoneState([down, down, down, ready], 0.55).state, 'PartialDisruption');
    assert.equal(computeZoneState([down, undefined, ready, ready, ready, ready], 0.55).state, 'Normal');
  });

  it('drains its queue at the limiter rate and keeps processed values known', async () => {
    const clock = new FakeClock();
    const q = new RateLimitedTimedQueue(new TokenBucket(1, 1, clock), clock);
    assert.equal(q.add('a'), true);
    assert.equal(q.add('b'), true);
    assert.equal(q.add('a'), false);
    const seen: string[] = [];
    const wait = await q.try(async (v) => {
      seen.push(v);
      return { done: true };
    });
    assert.deepEqual(seen, ['a']);
    assert.equal(wait, 1000);
    clock.advance(1000);
    await q.try(async (v) => {
      seen.push(v);
      return { done: true };
    });
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(q.add('a'), false, 'still known after processing');
    q.remove('a');
    assert.equal(q.add('a'), true);
    q.swapLimiter(0);
    assert.equal(await q.try(async () => ({ done: true })), Number.POSITIVE_INFINITY);
  });
});
