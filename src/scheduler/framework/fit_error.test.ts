import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FitError, fitErrorMessage, newDiagnosis } from './fit_error.ts';
import { Status } from './status.ts';

describe('FitError message', () => {
  it('counts reasons over nodes and sorts "<count> <reason>" strings', () => {
    const d = newDiagnosis();
    d.nodeToStatus.set('a', Status.unschedulable('Insufficient cpu'));
    d.nodeToStatus.set('b', Status.unschedulable('Insufficient cpu', 'Insufficient memory'));
    d.nodeToStatus.set('c', Status.unresolvable('node(s) had untolerated taint {dedicated: gpu}'));
    d.nodeToStatus.set('d', Status.unschedulable('Insufficient cpu'));
    d.nodeToStatus.set('e', Status.unresolvable('node(s) had untolerated taint {dedicated: gpu}'));
    assert.equal(
      fitErrorMessage(5, d),
      '0/5 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu.',
    );
  });

  it('uses the PreFilter message instead of per-node reasons', () => {
    const d = newDiagnosis();
    d.preFilterMsg = 'pod affinity terms conflict';
    d.nodeToStatus.absent = Status.unresolvable('pod affinity terms conflict');
    assert.equal(fitErrorMessage(3, d), '0/3 nodes are available: pod affinity terms conflict.');
  });

  it('counts nodes absent from the map with the absent status', () => {
    const d = newDiagnosis();
    d.nodeToStatus.absent = Status.unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]");
    d.nodeToStatus.set('a', Status.unschedulable('Insufficient cpu'));
    assert.equal(
      fitErrorMessage(4, d),
      "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    );
  });

  it('appends the PostFilter message as is', () => {
    const d = newDiagnosis();
    d.nodeToStatus.set('a', Status.unschedulable('Insufficient cpu'));
    const e = new FitError({ namespace: 'ns', name: 'p' }, 1, d);
    assert.equal(e.message, '0/1 nodes are available: 1 Insufficient cpu.');
    e.setPostFilterMsg(
      'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    assert.equal(
      e.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
  });
});
