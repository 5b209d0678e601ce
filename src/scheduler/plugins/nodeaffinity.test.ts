import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CycleState } from '../framework/cycle_state.ts';
import { filterAll, makeNode, makePod, scoreAll, testFramework } from '../testing.ts';
import type { NodeSelectorTerm, Pod } from '../types.ts';

const OK = { code: 0, message: '' };
const NO = { code: 3, message: "node(s) didn't match Pod's node affinity/selector" };

const nodes = [
  makeNode('a', { labels: { zone: 'z1', disk: 'ssd', cores: '8' } }),
  makeNode('b', { labels: { zone: 'z2', cores: '32' } }),
  makeNode('c', { labels: { zone: 'z3', disk: 'hdd' } }),
];

function required(...terms: NodeSelectorTerm[]): Pod {
  return makePod('p', {
    spec: {
      containers: [],
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
      },
    },
  });
}

function run(pod: Pod) {
  const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeAffinity' }], nodes });
  return filterAll(fw, snapshot, pod);
}

describe('NodeAffinity filter', () => {
  const cases: [string, Pod, Record<string, unknown>][] = [
    [
      'nodeSelector must match every label',
      makePod('p', { nodeSelector: { disk: 'ssd' } }),
      { a: OK, b: NO, c: NO },
    ],
    [
      'In',
      required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] }),
      { a: OK, b: OK, c: NO },
    ],
    [
      'NotIn (absent label matches)',
      required({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }),
      { a: NO, b: OK, c: OK },
    ],
    [
      'Exists',
      required({ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }),
      { a: OK, b: NO, c: OK },
    ],
    [
      'DoesNotExist',
      required({ matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }),
      { a: NO, b: OK, c: NO },
    ],
    [
      'Gt compares integers',
      required({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['16'] }] }),
      { a: NO, b: OK, c: NO },
    ],
    [
      'Lt compares integers',
      required({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['16'] }] }),
      { a: OK, b: NO, c: NO },
    ],
    [
      'terms are ORed, expressions ANDed',
      required(
        {
          matchExpressions: [
            { key: 'zone', operator: 'In', values: ['z1'] },
            { key: 'disk', operator: 'In', values: ['hdd'] },
          ],
        },
        { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z3'] }] },
      ),
      { a: NO, b: NO, c: OK },
    ],
    ['an empty term matches nothing', required({}), { a: NO, b: NO, c: NO }],
    ['no affinity: every node', makePod('p'), { a: OK, b: OK, c: OK }],
    [
      'nodeSelector and affinity must both hold',
      makePod('p', {
        nodeSelector: { zone: 'z1' },
        spec: {
          containers: [],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2'] }] }],
              },
            },
          },
        },
      }),
      { a: NO, b: NO, c: NO },
    ],
  ];
  for (const [name, pod, want] of cases) it(name, () => assert.deepEqual(run(pod), want));

  it('narrows to nodes named by matchFields metadata.name in PreFilter', () => {
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeAffinity' }], nodes });
    const pod = required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] });
    const pre = fw.runPreFilterPlugins(new CycleState(), pod, snapshot.list());
    assert.deepEqual([...pre.result!.nodeNames], ['b']);
    assert.deepEqual(filterAll(fw, snapshot, pod).b, OK);
    const notIn = required({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['b'] }] });
    assert.deepEqual(run(notIn), { a: OK, b: NO, c: OK });
  });

  it('reports conflicting name pins', () => {
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeAffinity' }], nodes });
    const pod = required({
      matchFields: [
        { key: 'metadata.name', operator: 'In', values: ['a'] },
        { key: 'metadata.name', operator: 'In', values: ['b'] },
      ],
    });
    const pre = fw.runPreFilterPlugins(new CycleState(), pod, snapshot.list());
    assert.equal(pre.status?.message(), 'pod affinity terms conflict');
  });
});

describe('NodeAffinity score', () => {
  it('sums the weights of matching preferred terms, normalized to 100', () => {
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeAffinity' }], nodes });
    const pod = makePod('p', {
      spec: {
        containers: [],
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 80, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
              {
                weight: 20,
                preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1', 'z2'] }] },
              },
            ],
          },
        },
      },
    });
    assert.deepEqual(scoreAll(fw, snapshot, pod), { a: 100, b: 20, c: 80 });
  });
});
