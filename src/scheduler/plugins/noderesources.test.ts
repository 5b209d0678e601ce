import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterAll, makeNode, makePod, scoreAll, testFramework } from '../testing.ts';
import type { Node, Pod } from '../types.ts';
import { balancedScore } from './balanced_allocation.ts';
import { leastAllocatedScorer, mostAllocatedScorer } from './resource_allocation.ts';

const OK = { code: 0, message: '' };

function run(pod: Pod, nodes: Node[], pods: Pod[] = [], args?: Record<string, unknown>) {
  const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeResourcesFit', args }], nodes, pods });
  return filterAll(fw, snapshot, pod);
}

describe('NodeResourcesFit filter', () => {
  const node = makeNode('n', {
    cpu: '2',
    memory: '4Gi',
    pods: 3,
    ephemeralStorage: '10Gi',
    extended: { 'example.com/gpu': '2' },
  });
  const used = makePod('used', { nodeName: 'n', cpu: '1500m', memory: '1Gi' });
  const cases: [string, Pod, Pod[], unknown][] = [
    ['fits what is left', makePod('p', { cpu: '500m', memory: '3Gi' }), [used], OK],
    ['Insufficient cpu', makePod('p', { cpu: '600m' }), [used], { code: 2, message: 'Insufficient cpu' }],
    [
      'every insufficient resource is listed',
      makePod('p', { cpu: '1', memory: '3500Mi' }),
      [used],
      { code: 2, message: 'Insufficient cpu, Insufficient memory' },
    ],
    [
      'more than the node has at all is unresolvable',
      makePod('p', { memory: '5Gi' }),
      [],
      { code: 3, message: 'Insufficient memory' },
    ],
    [
      'ephemeral storage',
      makePod('p', { requests: { 'ephemeral-storage': '11Gi' } }),
      [],
      { code: 3, message: 'Insufficient ephemeral-storage' },
    ],
    [
      'extended resources',
      makePod('p', { requests: { 'example.com/gpu': '3' } }),
      [],
      { code: 3, message: 'Insufficient example.com/gpu' },
    ],
    [
      'an extended resource the node lacks',
      makePod('p', { requests: { 'other.io/fpga': '1' } }),
      [],
      { code: 3, message: 'Insufficient other.io/fpga' },
    ],
    [
      'Too many pods',
      makePod('p'),
      [makePod('x1', { nodeName: 'n' }), makePod('x2', { nodeName: 'n' }), makePod('x3', { nodeName: 'n' })],
      { code: 2, message: 'Too many pods' },
    ],
    [
      'init containers count at their peak, overhead on top',
      makePod('p', {
        containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '400m' } } }],
        spec: { overhead: { cpu: '150m' } },
      }),
      [used],
      { code: 2, message: 'Insufficient cpu' },
    ],
  ];
  for (const [name, pod, pods, want] of cases)
    it(name, () => assert.deepEqual(run(pod, [node], pods).n, want));

  it('ignores configured extended resources', () => {
    const pod = makePod('p', { requests: { 'example.com/gpu': '3', 'other.io/fpga': '1' } });
    assert.deepEqual(
      run(pod, [node], [], { ignoredResources: ['example.com/gpu'], ignoredResourceGroups: ['other.io'] }).n,
      OK,
    );
  });
});

describe('resource scoring', () => {
  it('LeastAllocated: free fraction × 100, averaged by weight', () => {
    const f = leastAllocatedScorer([
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 1 },
    ]);
    assert.equal(f([3000, 5000], [4000, 10000]), Math.trunc((25 + 50) / 2));
    assert.equal(f([5000, 0], [4000, 10000]), 50);
    assert.equal(f([0, 0], [0, 0]), 0);
  });

  it('MostAllocated: used fraction × 100', () => {
    const f = mostAllocatedScorer([
      { name: 'cpu', weight: 1 },
      { name: 'memory', weight: 3 },
    ]);
    assert.equal(f([2000, 10000], [4000, 10000]), Math.trunc((50 + 300) / 4));
  });

  it('BalancedAllocation: 100 × (1 - std of the fractions)', () => {
    assert.equal(balancedScore([2000, 5000], [4000, 10000]), 100);
    assert.equal(balancedScore([4000, 0], [4000, 10000]), 50);
    assert.equal(
      balancedScore([1, 2, 3], [4, 4, 4]),
      Math.trunc((1 - Math.sqrt(((0.25 - 0.5) ** 2 + 0 + 0.25 ** 2) / 3)) * 100),
    );
  });

  it('prefers the emptier node, with default requests for pods that set none', () => {
    const nodes = [
      makeNode('busy', { cpu: '4', memory: '8Gi' }),
      makeNode('idle', { cpu: '4', memory: '8Gi' }),
    ];
    const pods = [makePod('x', { nodeName: 'busy', cpu: '3', memory: '6Gi' })];
    const { fw, snapshot } = testFramework({
      plugins: [{ name: 'NodeResourcesFit' }, { name: 'NodeResourcesBalancedAllocation' }],
      nodes,
      pods,
    });
    const scores = scoreAll(fw, snapshot, makePod('p', { cpu: '1', memory: '1Gi' }));
    assert.ok(scores.idle! > scores.busy!, JSON.stringify(scores));
    // Best-effort pod: BalancedAllocation skips, NodeResourcesFit counts 100m/200Mi.
    const be = scoreAll(fw, snapshot, makePod('be'));
    const least = (cpuUsed: number, memUsed: number) =>
      Math.trunc(
        (Math.trunc(((4000 - cpuUsed) * 100) / 4000) +
          Math.trunc(((8 * 1024 - memUsed) * 100) / (8 * 1024))) /
          2,
      );
    assert.deepEqual(be, { busy: least(3100, 6 * 1024 + 200), idle: least(100, 200) });
  });
});
