import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterAll, makeNode, makePod, scoreAll, testFramework } from '../testing.ts';
import type { Node, Pod } from '../types.ts';

const OK = { code: 0, message: '' };
const unresolvable = (message: string) => ({ code: 3, message });
const unschedulable = (message: string) => ({ code: 2, message });

function run(plugin: string, pod: Pod, nodes: Node[], pods: Pod[] = []) {
  const { fw, snapshot } = testFramework({ plugins: [{ name: plugin }], nodes, pods });
  return filterAll(fw, snapshot, pod);
}

describe('NodeUnschedulable', () => {
  const nodes = [makeNode('ok'), makeNode('cordoned', { unschedulable: true })];
  const cases: [string, Pod, Record<string, unknown>][] = [
    [
      'rejects cordoned nodes',
      makePod('p'),
      { ok: OK, cordoned: unresolvable('node(s) were unschedulable') },
    ],
    [
      'allows a pod tolerating node.kubernetes.io/unschedulable',
      makePod('p', {
        tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
      }),
      { ok: OK, cordoned: OK },
    ],
  ];
  for (const [name, pod, want] of cases)
    it(name, () => assert.deepEqual(run('NodeUnschedulable', pod, nodes), want));
});

describe('NodeName', () => {
  it('fits only the named node', () => {
    const pod = makePod('p', { spec: { nodeName: 'b', containers: [] } });
    assert.deepEqual(run('NodeName', pod, [makeNode('a'), makeNode('b')]), {
      a: unresolvable("node(s) didn't match the requested node name"),
      b: OK,
    });
  });
  it('fits every node when no name is set', () => {
    assert.deepEqual(run('NodeName', makePod('p'), [makeNode('a')]), { a: OK });
  });
});

describe('NodePorts', () => {
  const port = (hostPort: number, protocol?: string, hostIP?: string) => ({
    containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort, protocol, hostIP }] }],
  });
  const existing = makePod('existing', { nodeName: 'a', containers: port(8080).containers });
  const existingIP = makePod('existing-ip', {
    nodeName: 'b',
    containers: port(8080, 'TCP', '10.0.0.1').containers,
  });
  const nodes = [makeNode('a'), makeNode('b'), makeNode('c')];
  const msg = unschedulable("node(s) didn't have free ports for the requested pod ports");
  const cases: [string, Pod, Record<string, unknown>][] = [
    ['same port and protocol conflicts', makePod('p', port(8080)), { a: msg, b: msg, c: OK }],
    ['another protocol does not', makePod('p', port(8080, 'UDP')), { a: OK, b: OK, c: OK }],
    ['another port does not', makePod('p', port(9090)), { a: OK, b: OK, c: OK }],
    [
      'a specific IP conflicts with 0.0.0.0 but not with another IP',
      makePod('p', port(8080, 'TCP', '10.0.0.2')),
      { a: msg, b: OK, c: OK },
    ],
    ['no host ports: always fits', makePod('p'), { a: OK, b: OK, c: OK }],
  ];
  for (const [name, pod, want] of cases) {
    it(name, () => assert.deepEqual(run('NodePorts', pod, nodes, [existing, existingIP]), want));
  }
});

describe('TaintToleration', () => {
  const nodes = [
    makeNode('clean'),
    makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    makeNode('evict', { taints: [{ key: 'maint', effect: 'NoExecute' }] }),
    makeNode('soft', { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }),
  ];
  const cases: [string, Pod, Record<string, unknown>][] = [
    [
      'rejects NoSchedule and NoExecute taints with upstream’s message',
      makePod('p'),
      {
        clean: OK,
        gpu: unresolvable('node(s) had untolerated taint {dedicated: gpu}'),
        evict: unresolvable('node(s) had untolerated taint {maint: }'),
        soft: OK,
      },
    ],
    [
      'Equal toleration matches key, value and effect',
      makePod('p', {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      }),
      { clean: OK, gpu: OK, evict: unresolvable('node(s) had untolerated taint {maint: }'), soft: OK },
    ],
    [
      'a wrong value does not tolerate',
      makePod('p', { tolerations: [{ key: 'dedicated', value: 'cpu' }] }),
      {
        clean: OK,
        gpu: unresolvable('node(s) had untolerated taint {dedicated: gpu}'),
        evict: unresolvable('node(s) had untolerated taint {maint: }'),
        soft: OK,
      },
    ],
    [
      'Exists without a key tolerates everything',
      makePod('p', { tolerations: [{ operator: 'Exists' }] }),
      { clean: OK, gpu: OK, evict: OK, soft: OK },
    ],
  ];
  for (const [name, pod, want] of cases)
    it(name, () => assert.deepEqual(run('TaintToleration', pod, nodes), want));

  it('scores nodes with fewer untolerated PreferNoSchedule taints higher', () => {
    const { fw, snapshot } = testFramework({
      plugins: [{ name: 'TaintToleration' }],
      nodes: [
        makeNode('none'),
        makeNode('one', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }] }),
        makeNode('two', {
          taints: [
            { key: 'a', effect: 'PreferNoSchedule' },
            { key: 'b', effect: 'PreferNoSchedule' },
          ],
        }),
      ],
    });
    assert.deepEqual(scoreAll(fw, snapshot, makePod('p')), { none: 100, one: 50, two: 0 });
    const tolerant = makePod('p', {
      tolerations: [{ key: 'a', operator: 'Exists', effect: 'PreferNoSchedule' }],
    });
    assert.deepEqual(scoreAll(fw, snapshot, tolerant), { none: 100, one: 100, two: 0 });
  });
});
