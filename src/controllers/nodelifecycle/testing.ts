/** Test helpers for the node controllers: a manager on a fake client and a fake clock. */
import { FakeRestClient } from '../../client/fake.ts';
import { LEASES, NODES } from '../../client/resources.ts';
import { FakeClock } from '../../util/clock.ts';
import type { Controller, ControllerOptions } from '../controller.ts';
import { ControllerManager } from '../manager.ts';
import { rfc3339 } from './taints.ts';
import type { Lease, Node } from './types.ts';

export interface Harness {
  client: FakeRestClient;
  clock: FakeClock;
  stop(): void;
  /** Moves the fake clock by `ms` and lets the work it triggers finish. */
  step(ms: number): Promise<void>;
  /** Lets pending work finish without moving the clock. */
  settle(): Promise<void>;
}

export function realSleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startHarness(
  controllers: Controller[],
  options: Partial<ControllerOptions> = {},
  setup?: (client: FakeRestClient, clock: FakeClock) => Promise<void>,
): Promise<Harness> {
  const clock = new FakeClock();
  const client = new FakeRestClient({ clock });
  await setup?.(client, clock);
  const ac = new AbortController();
  const manager = new ControllerManager({ client, controllers, clock, options, leaderElection: false });
  void manager.run(ac.signal);
  const settle = async () => {
    // The fake client answers in microtasks; a few real milliseconds let every chain run out.
    for (let i = 0; i < 3; i++) await realSleep(5);
  };
  await settle();
  return {
    client,
    clock,
    stop: () => ac.abort(),
    settle,
    async step(ms) {
      clock.advance(ms);
      await settle();
    },
  };
}

/** A Ready node, as a kubelet posts it, heartbeat at `now`. */
export function readyNode(name: string, now: number, extra: Partial<Node> = {}): Node {
  const t = rfc3339(now);
  const cond = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: reason,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
        cond('Ready', 'True', 'KubeletReady'),
      ],
    },
    ...extra,
  };
}

export function nodeLease(name: string, now: number): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(now).toISOString() },
  };
}

/** Renews a node's lease to `now` (as the kubelet does every 10 s). */
export async function renewLease(client: FakeRestClient, name: string, now: number): Promise<void> {
  const lease = await client.get<Lease>(LEASES, 'kube-node-lease', name);
  lease.spec = { ...lease.spec, renewTime: new Date(now).toISOString() };
  await client.update(LEASES, 'kube-node-lease', lease);
}

/** Posts the node's conditions again with a fresh heartbeat (Ready True), as a kubelet does. */
export async function postReady(client: FakeRestClient, name: string, now: number): Promise<void> {
  const node = await client.get<Node>(NODES, '', name);
  const fresh = readyNode(name, now);
  node.status = { ...node.status, conditions: fresh.status?.conditions };
  await client.update(NODES, '', node, { subresource: 'status' });
}

export async function getNode(client: FakeRestClient, name: string): Promise<Node> {
  return client.get<Node>(NODES, '', name);
}
