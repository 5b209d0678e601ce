import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CycleState } from './framework/cycle_state.ts';
import { FitError } from './framework/fit_error.ts';
import type { NodeInfo } from './framework/nodeinfo.ts';
import { Algorithm, NoNodesAvailableError, numFeasibleNodesToFind, selectHost } from './schedule_one.ts';
import { makeNode, makePod, testFramework } from './testing.ts';

describe('schedule one pod', () => {
  it('looks for an adaptive number of feasible nodes', () => {
    assert.equal(numFeasibleNodesToFind(0, 50), 50);
    assert.equal(numFeasibleNodesToFind(0, 100), 100);
    assert.equal(numFeasibleNodesToFind(0, 1000), 420);
    assert.equal(numFeasibleNodesToFind(0, 5000), 500);
    assert.equal(numFeasibleNodesToFind(0, 6000), 300);
    assert.equal(numFeasibleNodesToFind(0, 10_000), 500);
    assert.equal(numFeasibleNodesToFind(30, 1000), 300);
    assert.equal(numFeasibleNodesToFind(1, 1000), 100);
  });

  it('picks uniformly among the top scores', () => {
    const ni = (name: string) => ({ name }) as NodeInfo;
    const scores = [
      { nodeInfo: ni('a'), total: 5 },
      { nodeInfo: ni('b'), total: 9 },
      { nodeInfo: ni('c'), total: 9 },
    ];
    assert.equal(
      selectHost(scores, () => 0),
      'c',
    );
    assert.equal(
      selectHost(scores, () => 0.99),
      'b',
    );
  });

  it('stops at enough feasible nodes and resumes where it stopped', () => {
    const nodes = Array.from({ length: 300 }, (_, i) => makeNode(`n${i}`));
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeResourcesFit' }], nodes });
    const alg = new Algorithm(50);
    const r = alg.schedulePod(fw, new CycleState(), makePod('p', { cpu: '1' }), snapshot);
    assert.equal(r.feasibleNodes, 150);
    assert.equal(alg.nextStartNodeIndex, 150);
    alg.schedulePod(fw, new CycleState(), makePod('q', { cpu: '1' }), snapshot);
    assert.equal(alg.nextStartNodeIndex, 0);
  });

  it('fails with FitError listing every node, or with no nodes at all', () => {
    const { fw, snapshot } = testFramework({
      plugins: [{ name: 'NodeAffinity' }, { name: 'NodeResourcesFit' }],
      nodes: [makeNode('a', { cpu: '1' }), makeNode('b', { cpu: '1', labels: { x: 'y' } })],
    });
    const alg = new Algorithm();
    assert.throws(
      () =>
        alg.schedulePod(fw, new CycleState(), makePod('p', { cpu: '2', nodeSelector: { x: 'y' } }), snapshot),
      (err: unknown) =>
        err instanceof FitError &&
        err.message ===
          "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
    );
    const empty = testFramework({ plugins: [{ name: 'NodeResourcesFit' }] });
    assert.throws(
      () => alg.schedulePod(empty.fw, new CycleState(), makePod('p'), empty.snapshot),
      NoNodesAvailableError,
    );
  });

  it('tries the nominated node first', () => {
    const nodes = Array.from({ length: 5 }, (_, i) => makeNode(`n${i}`));
    const { fw, snapshot } = testFramework({ plugins: [{ name: 'NodeResourcesFit' }], nodes });
    const pod = makePod('p');
    pod.status = { nominatedNodeName: 'n3' };
    assert.equal(new Algorithm().schedulePod(fw, new CycleState(), pod, snapshot).suggestedHost, 'n3');
  });

  it('reports nodes a PreFilter result excluded', () => {
    const { fw, snapshot } = testFramework({
      plugins: [{ name: 'NodeAffinity' }, { name: 'NodeResourcesFit' }],
      nodes: [makeNode('a', { cpu: '1' }), makeNode('b'), makeNode('c')],
    });
    const pod = makePod('p', {
      cpu: '2',
      spec: {
        containers: [{ name: 'c', resources: { requests: { cpu: '2' } } }],
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }],
            },
          },
        },
      },
    });
    assert.throws(
      () => new Algorithm().schedulePod(fw, new CycleState(), pod, snapshot),
      (err: unknown) =>
        err instanceof FitError &&
        err.message ===
          "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });
});
