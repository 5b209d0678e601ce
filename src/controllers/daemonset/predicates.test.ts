import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Node } from '../job/podutil.ts';
import {
  daemonTolerations,
  fitsNodeAffinity,
  nodeShouldRunDaemonPod,
  pinToNode,
  targetNodeName,
  tolerates,
} from './predicates.ts';

const node = (name: string, labels: Record<string, string> = {}, taints: Node['spec'] = {}): Node => ({
  metadata: { name, labels },
  spec: taints,
});

describe('daemon pod placement', () => {
  it('tolerations match taints as the scheduler does', () => {
    assert.ok(
      tolerates({ operator: 'Exists' }, { key: 'any', effect: 'NoSchedule' }),
      'empty key + Exists tolerates all',
    );
    assert.ok(
      tolerates({ key: 'k', operator: 'Equal', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' }),
    );
    assert.ok(
      !tolerates(
        { key: 'k', value: 'v', effect: 'NoSchedule' },
        { key: 'k', value: 'v', effect: 'NoExecute' },
      ),
    );
    assert.ok(!tolerates({ key: 'k', value: 'w' }, { key: 'k', value: 'v', effect: 'NoSchedule' }));
  });

  it('adds network-unavailable only for host-network pods', () => {
    assert.equal(daemonTolerations(false).length, 6);
    assert.ok(daemonTolerations(true).some((t) => t.key === 'node.kubernetes.io/network-unavailable'));
    const tainted = node(
      'n',
      {},
      { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] },
    );
    assert.equal(nodeShouldRunDaemonPod(tainted, { hostNetwork: true }).shouldRun, true);
    assert.deepEqual(nodeShouldRunDaemonPod(tainted, {}), { shouldRun: false, shouldContinueRunning: true });
    const unschedulable = node(
      'u',
      {},
      { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] },
    );
    assert.equal(nodeShouldRunDaemonPod(unschedulable, {}).shouldRun, true);
  });

  it('required node affinity: terms OR-ed, expressions AND-ed, Gt/Lt, matchFields on the name', () => {
    const n = node('big', { cpus: '64', zone: 'a' });
    const spec = (terms: unknown[]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms as never },
        },
      },
    });
    assert.ok(
      fitsNodeAffinity(spec([{ matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['32'] }] }]), n),
    );
    assert.ok(
      !fitsNodeAffinity(spec([{ matchExpressions: [{ key: 'cpus', operator: 'Lt', values: ['32'] }] }]), n),
    );
    assert.ok(
      fitsNodeAffinity(
        spec([
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['big'] }] },
        ]),
        n,
      ),
    );
    assert.ok(!fitsNodeAffinity(spec([{}]), n), 'an empty term matches nothing');
    assert.ok(!fitsNodeAffinity({ nodeSelector: { zone: 'b' } }, n));
  });

  it('pins a pod to its node and reads the node back', () => {
    const a = pinToNode({ podAntiAffinity: { x: 1 } } as never, 'n7');
    assert.deepEqual(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }],
    });
    assert.deepEqual((a as { podAntiAffinity?: unknown }).podAntiAffinity, { x: 1 });
    assert.equal(targetNodeName({ metadata: {}, spec: { affinity: a } }), 'n7');
    assert.equal(targetNodeName({ metadata: {}, spec: { nodeName: 'bound', affinity: a } }), 'bound');
  });
});
