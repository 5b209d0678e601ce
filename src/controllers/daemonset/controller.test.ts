import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CONTROLLER_REVISIONS, DAEMON_SETS, NODES } from '../../client/resources.ts';
import type { Node, Pod, Taint } from '../job/podutil.ts';
import { Harness, podTemplate } from '../job/testing.ts';
import { CONTROLLER_REVISION_HASH_LABEL, type ControllerRevision } from '../statefulset/history.ts';
import { DaemonSetController } from './controller.ts';
import { targetNodeName } from './predicates.ts';
import { type DaemonSet, TEMPLATE_GENERATION_ANNOTATION } from './types.ts';

function node(name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } };
}

function newDaemonSet(name: string, spec: Partial<DaemonSet['spec']> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name,
      namespace: 'default',
      generation: 1,
      annotations: { [TEMPLATE_GENERATION_ANNOTATION]: '1' },
    },
    spec: {
      selector: { matchLabels: { app: name } },
      template: podTemplate({ app: name }, { restartPolicy: 'Always' }),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      ...spec,
    },
  };
}

describe('DaemonSetController', () => {
  let h: Harness;
  let dc: DaemonSetController;
  beforeEach(async () => {
    h = new Harness();
    dc = new DaemonSetController();
    await h.start(dc);
  });
  afterEach(() => h.stop());

  const ds = (name: string) =>
    h.client.objects<DaemonSet>(DAEMON_SETS).find((d) => d.metadata.name === name) as DaemonSet;
  const sync = async (name: string) => {
    await h.settle();
    const r = await dc.reconcile(`default/${name}`);
    await h.settle();
    return r;
  };
  const byNode = () => {
    const m: Record<string, string[]> = {};
    for (const p of h.pods()) {
      const n = targetNodeName(p) ?? '?';
      m[n] = [...(m[n] ?? []), p.metadata.name ?? ''];
    }
    return m;
  };
  const runAll = async () => {
    for (const p of h.pods()) if (p.status?.phase !== 'Running') await h.setPhase(p, 'Running');
  };

  it('runs one pod per node, pinned by node affinity, with the daemon tolerations and revision labels', async () => {
    for (const n of ['n1', 'n2', 'n3']) await h.create(NODES, node(n));
    await h.create(DAEMON_SETS, newDaemonSet('d'));
    await sync('d');
    const pods = h.pods();
    assert.deepEqual(Object.keys(byNode()).sort(), ['n1', 'n2', 'n3']);
    const p = pods[0] as Pod;
    assert.deepEqual(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [
        { matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeName(p)] }] },
      ],
    });
    const keys = (p.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}`);
    for (const k of [
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]) {
      assert.ok(keys.includes(k), k);
    }
    assert.ok(
      !keys.includes('node.kubernetes.io/network-unavailable:NoSchedule'),
      'only for hostNetwork pods',
    );
    const revs = h.client.objects<ControllerRevision>(CONTROLLER_REVISIONS);
    assert.equal(revs.length, 1);
    const hash = revs[0]?.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    assert.equal(p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL], hash);
    assert.equal(p.metadata.labels?.['pod-template-generation'], '1');
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'DaemonSet');
    // Status: scheduled, none ready yet.
    await sync('d');
    let st = ds('d').status;
    assert.equal(st?.desiredNumberScheduled, 3);
    assert.equal(st?.currentNumberScheduled, 3);
    assert.equal(st?.updatedNumberScheduled, 3);
    assert.equal(st?.numberReady, 0);
    assert.equal(st?.numberUnavailable, 3);
    assert.equal(st?.observedGeneration, 1);
    await runAll();
    await sync('d');
    st = ds('d').status;
    assert.equal(st?.numberReady, 3);
    assert.equal(st?.numberAvailable, 3);
    assert.equal(st?.numberUnavailable, 0);
    // Idempotent: nothing more to do.
    await sync('d');
    assert.equal(h.pods().length, 3);
  });

  it('follows nodeSelector, taints and tolerations', async () => {
    await h.create(NODES, node('gpu', { gpu: 'yes' }));
    await h.create(NODES, node('plain'));
    await h.create(
      NODES,
      node('tainted', { gpu: 'yes' }, [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]),
    );
    await h.create(
      NODES,
      node('notready', { gpu: 'yes' }, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]),
    );
    await h.create(
      DAEMON_SETS,
      newDaemonSet('sel', { template: podTemplate({ app: 'sel' }, { nodeSelector: { gpu: 'yes' } }) }),
    );
    await sync('sel');
    assert.deepEqual(Object.keys(byNode()).sort(), ['gpu', 'notready']);
    // A NoSchedule taint added later: the pod stays. A NoExecute one: it goes.
    await h.client.patch(NODES, '', 'gpu', 'merge', {
      spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] },
    });
    await sync('sel');
    assert.deepEqual(Object.keys(byNode()).sort(), ['gpu', 'notready']);
    await h.client.patch(NODES, '', 'gpu', 'merge', {
      spec: { taints: [{ key: 'k', effect: 'NoExecute' }] },
    });
    await sync('sel');
    assert.deepEqual(Object.keys(byNode()).sort(), ['notready']);
    // Labels no longer matching: misscheduled until deleted.
    await h.client.patch(NODES, '', 'notready', 'merge', { metadata: { labels: { gpu: 'no' } } });
    await sync('sel');
    assert.deepEqual(Object.keys(byNode()), []);
  });

  it('rolls a template change one node at a time (maxUnavailable 1)', async () => {
    for (const n of ['n1', 'n2', 'n3']) await h.create(NODES, node(n));
    await h.create(DAEMON_SETS, newDaemonSet('r'));
    await sync('r');
    await runAll();
    await sync('r');
    const oldHash = h.pods()[0]?.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    await h.client.patch(DAEMON_SETS, 'default', 'r', 'merge', {
      metadata: { generation: 2, annotations: { [TEMPLATE_GENERATION_ANNOTATION]: '2' } },
      spec: { template: podTemplate({ app: 'r' }, { restartPolicy: 'Always', hostname: 'v2' }) },
    });
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      await sync('r');
      const pods = h.pods();
      seen.push(pods.filter((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === oldHash).length);
      // At most one node without an available pod at any time.
      const available = pods.filter((p) => p.status?.phase === 'Running').length;
      assert.ok(available >= 2, `available ${available}`);
      await runAll();
    }
    const pods = h.pods();
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== oldHash));
    assert.ok(pods.every((p) => p.spec?.hostname === 'v2'));
    assert.deepEqual(seen.slice(0, 4), [2, 2, 1, 1], 'one old pod replaced per round');
    assert.equal(h.client.objects(CONTROLLER_REVISIONS).length, 2);
    const st = ds('r').status;
    assert.equal(st?.updatedNumberScheduled, 3);
    assert.equal(st?.observedGeneration, 2);
  });

  it('surges a new pod beside the old one (maxSurge 1, maxUnavailable 0)', async () => {
    await h.create(NODES, node('n1'));
    await h.create(
      DAEMON_SETS,
      newDaemonSet('s', {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      }),
    );
    await sync('s');
    await runAll();
    await sync('s');
    const [old] = h.pods();
    await h.client.patch(DAEMON_SETS, 'default', 's', 'merge', {
      metadata: { annotations: { [TEMPLATE_GENERATION_ANNOTATION]: '2' } },
      spec: { template: podTemplate({ app: 's' }, { restartPolicy: 'Always', hostname: 'v2' }) },
    });
    await sync('s');
    assert.equal(h.pods().length, 2, 'the new pod starts beside the old one');
    await sync('s');
    assert.equal(h.pods().length, 2, 'the old one stays until the new one is available');
    await runAll();
    await sync('s');
    const pods = h.pods();
    assert.equal(pods.length, 1);
    assert.notEqual(pods[0]?.metadata.name, old?.metadata.name);
  });

  it('OnDelete leaves old pods alone', async () => {
    await h.create(NODES, node('n1'));
    await h.create(DAEMON_SETS, newDaemonSet('o', { updateStrategy: { type: 'OnDelete' } }));
    await sync('o');
    await runAll();
    const [old] = h.pods();
    await h.client.patch(DAEMON_SETS, 'default', 'o', 'merge', {
      metadata: { annotations: { [TEMPLATE_GENERATION_ANNOTATION]: '2' } },
      spec: { template: podTemplate({ app: 'o' }, { hostname: 'v2' }) },
    });
    await sync('o');
    await sync('o');
    assert.deepEqual(
      h.pods().map((p) => p.metadata.name),
      [old?.metadata.name],
    );
    assert.equal(ds('o').status?.updatedNumberScheduled, 0);
  });

  it('replaces failed pods, with a back-off per node', async () => {
    await h.create(NODES, node('n1'));
    await h.create(DAEMON_SETS, newDaemonSet('f'));
    await sync('f');
    await h.setPhase(h.pods()[0] as Pod, 'Failed');
    await sync('f');
    assert.equal(h.pods().length, 0, 'the failed pod is deleted');
    assert.ok(dc.events.recent.some((e) => e.reason === 'FailedDaemonPod'));
    await sync('f');
    assert.equal(h.pods().length, 1, 'and replaced');
    await h.setPhase(h.pods()[0] as Pod, 'Failed');
    const r = await sync('f');
    assert.equal(h.pods().length, 1, 'a second failure within the back-off waits');
    assert.ok(r?.requeueAfterMs !== undefined && r.requeueAfterMs <= 1000);
    h.clock.advance(1000);
    await sync('f');
    assert.equal(h.pods().length, 0);
  });
});
