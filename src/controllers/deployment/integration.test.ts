/**
 * The Deployment and ReplicaSet controllers against a real API server, run by the controller
 * manager. The test plays scheduler and kubelet: it binds every new pod, marks it Running and Ready
 * shortly after, and finishes graceful deletions. Throughout a rolling update it checks, at every
 * pod change it observes, that no more than spec.replicas + maxSurge pods are active and no fewer
 * than spec.replicas - maxUnavailable are ready.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SharedInformer } from '../../client/informer.ts';
import { DEPLOYMENTS, NAMESPACES, PODS, REPLICA_SETS } from '../../client/resources.ts';
import { HttpRestClient } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import { ControllerManager } from '../manager.ts';
import { ReplicaSetController } from '../replicaset/controller.ts';
import type { ReplicaSet } from '../replicaset/types.ts';
import { controllerRefOf, isPodReady, type Pod, rfc3339 } from '../util/pods.ts';
import { DeploymentController } from './controller.ts';
import { rolloutHistory, rolloutStatus, rolloutUndo } from './kubectl.ts';
import type { Deployment } from './types.ts';

const NS = 'rollout';
const REPLICAS = 10;
const MAX_SURGE = 3; // 25% of 10, rounded up
const MAX_UNAVAILABLE = 2; // 25% of 10, rounded down

let srv: TestApiServer;
let client: HttpRestClient;
const stop = new AbortController();
let running: Promise<void>;
const violations: string[] = [];
let maxActiveSeen = 0;
let minReadySeen = Number.POSITIVE_INFINITY;
/** Whether the invariants are being checked (from the first rollout on). */
let checking = false;

const isActive = (p: Pod) =>
  !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase ?? '');

/** The kubelet's part: bind, start and report ready; finish graceful deletions. */
async function kubelet(pod: Pod): Promise<void> {
  const name = pod.metadata.name ?? '';
  try {
    if (pod.metadata.deletionTimestamp) {
      await client.delete(PODS, NS, name, { gracePeriodSeconds: 0 });
      return;
    }
    if (!pod.spec?.nodeName) {
      await client.createSubresource(PODS, NS, name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name },
        target: { kind: 'Node', name: 'node-1' },
      });
      return;
    }
    if (pod.status?.phase !== 'Running') {
      await new Promise((r) => setTimeout(r, 20)); // starting containers
      const now = rfc3339(Date.now());
      const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
      await client.patch(
        PODS,
        NS,
        name,
        'merge',
        {
          status: {
            phase: 'Running',
            conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map(cond),
            containerStatuses: [
              {
                name: 'app',
                ready: true,
                restartCount: 0,
                image: 'x',
                imageID: '',
                started: true,
                state: {},
              },
            ],
            startTime: now,
          },
        },
        { subresource: 'status' },
      );
    }
  } catch {
    // Gone or changed meanwhile: the next event brings it back here.
  }
}

function checkPods(pods: Pod[], what: string): void {
  if (!checking) return;
  const active = pods.filter(isActive);
  const ready = active.filter(isPodReady);
  maxActiveSeen = Math.max(maxActiveSeen, active.length);
  minReadySeen = Math.min(minReadySeen, ready.length);
  if (active.length > REPLICAS + MAX_SURGE) violations.push(`${what}: ${active.length} active pods`);
  if (ready.length < REPLICAS - MAX_UNAVAILABLE) violations.push(`${what}: only ${ready.length} ready pods`);
}

function checkReplicaSets(rss: ReplicaSet[], what: string): void {
  if (!checking) return;
  const total = rss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
  if (total > REPLICAS + MAX_SURGE) violations.push(`${what}: replica sets want ${total} pods`);
}

let podInformer: SharedInformer<Pod>;
let rsInformer: SharedInformer<ReplicaSet>;

before(async () => {
  srv = await startTestApiServer();
  client = new HttpRestClient(srv.config, { component: 'controller-test' });
  await client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  podInformer = new SharedInformer<Pod>(client, PODS, { namespace: NS });
  podInformer.addEventHandler({
    onAdd: (p) => {
      checkPods(podInformer.lister().list(), `added ${p.metadata.name}`);
      void kubelet(p);
    },
    onUpdate: (_o, p) => {
      checkPods(podInformer.lister().list(), `updated ${p.metadata.name}`);
      void kubelet(p);
    },
    onDelete: (p) => checkPods(podInformer.lister().list(), `deleted ${p.metadata.name}`),
  });
  rsInformer = new SharedInformer<ReplicaSet>(client, REPLICA_SETS, { namespace: NS });
  rsInformer.addEventHandler({
    onAdd: (rs) => checkReplicaSets(rsInformer.lister().list(), `added ${rs.metadata.name}`),
    onUpdate: (_o, rs) => checkReplicaSets(rsInformer.lister().list(), `updated ${rs.metadata.name}`),
  });
  podInformer.run(stop.signal);
  rsInformer.run(stop.signal);
  await Promise.all([podInformer.synced(), rsInformer.synced()]);
  const manager = new ControllerManager({
    client,
    controllers: [new ReplicaSetController(), new DeploymentController()],
    leaderElection: false,
  });
  running = manager.run(stop.signal);
});

after(async () => {
  stop.abort();
  await running;
  client.close();
  await srv.close();
});

const getDeployment = () => client.get<Deployment>(DEPLOYMENTS, NS, 'web');
const replicaSets = () => rsInformer.lister().list();
const activePods = () => podInformer.lister().list().filter(isActive);

async function waitRolledOut(what: string): Promise<Deployment> {
  let d: Deployment | undefined;
  await eventually(
    async () => {
      d = await getDeployment();
      return rolloutStatus(d).done && activePods().length === REPLICAS;
    },
    what,
    15_000,
  );
  return d!;
}

describe('Deployment rollout against a real API server', () => {
  it('creates a ReplicaSet and 10 pods, and reports the rollout complete once they are ready', async () => {
    await client.create<Deployment>(DEPLOYMENTS, NS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'kubernetes.io/change-cause': 'create' } },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'app', image: 'nginx:1.0' }] },
        },
      },
    });
    const d = await waitRolledOut('the first rollout');
    const rss = replicaSets();
    assert.equal(rss.length, 1);
    const rs = rss[0]!;
    const hash = rs.metadata.labels?.['pod-template-hash'];
    assert.match(hash ?? '', /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.deepEqual(rs.spec?.selector?.matchLabels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(rs.spec?.replicas, REPLICAS);
    assert.deepEqual(
      {
        revision: rs.metadata.annotations?.['deployment.kubernetes.io/revision'],
        desired: rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'],
        max: rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'],
        cause: rs.metadata.annotations?.['kubernetes.io/change-cause'],
      },
      { revision: '1', desired: '10', max: '13', cause: 'create' },
    );
    const ref = controllerRefOf(rs);
    assert.deepEqual(
      { kind: ref?.kind, name: ref?.name, uid: ref?.uid, block: ref?.blockOwnerDeletion },
      { kind: 'Deployment', name: 'web', uid: d.metadata.uid, block: true },
    );

    const pods = activePods();
    assert.equal(pods.length, REPLICAS);
    for (const pod of pods) {
      assert.ok(pod.metadata.name?.startsWith(`web-${hash}-`), `${pod.metadata.name}`);
      assert.equal(pod.metadata.generateName, `web-${hash}-`);
      assert.equal(pod.metadata.labels?.['pod-template-hash'], hash);
      assert.deepEqual(pod.metadata.ownerReferences, [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs.metadata.name,
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }

    // What `kubectl rollout status` and `kubectl get deploy` read.
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
    const s = d.status!;
    assert.deepEqual(
      {
        observedGeneration: s.observedGeneration,
        replicas: s.replicas,
        updatedReplicas: s.updatedReplicas,
        readyReplicas: s.readyReplicas,
        availableReplicas: s.availableReplicas,
        unavailableReplicas: s.unavailableReplicas ?? 0,
      },
      {
        observedGeneration: d.metadata.generation,
        replicas: 10,
        updatedReplicas: 10,
        readyReplicas: 10,
        availableReplicas: 10,
        unavailableReplicas: 0,
      },
    );
    const conds = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
    assert.deepEqual(conds, {
      Available: 'True/MinimumReplicasAvailable',
      Progressing: 'True/NewReplicaSetAvailable',
    });
    assert.equal(rolloutStatus(d).message, 'deployment "web" successfully rolled out\n');
    await eventually(() => replicaSets()[0]?.status?.availableReplicas === REPLICAS, 'the ReplicaSet status');
  });

  it('rolls a new image out within maxSurge and maxUnavailable, and scales the old ReplicaSet to 0', async () => {
    const [oldRS] = replicaSets();
    checking = true;
    await client.patch(DEPLOYMENTS, NS, 'web', 'json', [
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:2.0' },
      { op: 'replace', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'image 2.0' },
    ]);
    const d = await waitRolledOut('the rollout of nginx:2.0');
    checking = false;
    assert.deepEqual(violations, []);
    // The rollout did use its room: surge pods, and fewer than all ready.
    assert.ok(maxActiveSeen > REPLICAS, `surged to ${maxActiveSeen}`);
    assert.ok(minReadySeen >= REPLICAS - MAX_UNAVAILABLE, `min ready ${minReadySeen}`);

    const rss = replicaSets();
    assert.equal(rss.length, 2);
    const newRS = rss.find((rs) => rs.metadata.uid !== oldRS?.metadata.uid)!;
    const old = rss.find((rs) => rs.metadata.uid === oldRS?.metadata.uid)!;
    assert.equal(old.spec?.replicas, 0);
    assert.equal(newRS.spec?.replicas, REPLICAS);
    assert.equal(newRS.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(newRS.metadata.annotations?.['kubernetes.io/change-cause'], 'image 2.0');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
    assert.equal(newRS.spec?.template?.spec?.containers?.[0]?.image, 'nginx:2.0');
    const hash = newRS.metadata.labels?.['pod-template-hash'];
    assert.ok(activePods().every((p) => p.metadata.labels?.['pod-template-hash'] === hash));
    assert.equal(d.status?.updatedReplicas, REPLICAS);
    assert.equal(d.status?.replicas, REPLICAS);
    assert.equal(d.status?.availableReplicas, REPLICAS);
  });

  it('rolls back kubectl-style: the old ReplicaSet revives with a new revision', async () => {
    const before = replicaSets();
    const first = before.find(
      (rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1',
    )!;
    const second = before.find(
      (rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
    )!;
    violations.length = 0;
    maxActiveSeen = 0;
    minReadySeen = Number.POSITIVE_INFINITY;
    checking = true;
    assert.equal(await rolloutUndo(client, NS, 'web'), 'rolled back');
    const d = await waitRolledOut('the rollback');
    checking = false;
    assert.deepEqual(violations, []);

    const rss = replicaSets();
    assert.equal(rss.length, 2, 'no new ReplicaSet: the first one is reused');
    const revived = rss.find((rs) => rs.metadata.uid === first.metadata.uid)!;
    const retired = rss.find((rs) => rs.metadata.uid === second.metadata.uid)!;
    assert.equal(revived.spec?.replicas, REPLICAS);
    assert.equal(retired.spec?.replicas, 0);
    assert.equal(revived.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(revived.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3');
    assert.equal(d.metadata.annotations?.['kubernetes.io/change-cause'], 'create');
    assert.equal(d.spec?.template?.spec?.containers?.[0]?.image, 'nginx:1.0');
    assert.equal(d.spec?.template?.metadata?.labels?.['pod-template-hash'], undefined);
    const hash = revived.metadata.labels?.['pod-template-hash'];
    assert.ok(activePods().every((p) => p.metadata.labels?.['pod-template-hash'] === hash));

    assert.deepEqual(
      (await rolloutHistory(client, NS, 'web')).map((e) => [e.revision, e.changeCause]),
      [
        [2, 'image 2.0'],
        [3, 'create'],
      ],
    );
  });
});
