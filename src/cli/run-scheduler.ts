/** The scheduler as an elected API client: what `skiff scheduler` and `skiff server`'s scheduler thread run. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { selectorFromSet } from '../api/labels.ts';
import { InformerFactory } from '../client/factory.ts';
import { stripManagedFields } from '../client/informer.ts';
import { LeaderElector } from '../client/leaderelection.ts';
import { NAMESPACES, NODES, POD_DISRUPTION_BUDGETS, PODS, PRIORITY_CLASSES } from '../client/resources.ts';
import { type ClientConnection, HttpRestClient } from '../client/rest.ts';
import { defaultProfile } from '../scheduler/plugins/registry.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import type { Logger } from '../util/log.ts';

/**
 * The default profile with kube-scheduler's system default spreading: pods of one controller are
 * spread over nodes (maxSkew 3) and zones (maxSkew 5), softly. Upstream takes the selector from the
 * pod's Services and controllers; here it is the pod's labels when a controller owns it (for a
 * ReplicaSet's pods that is its selector: the labels include the pod-template-hash).
 */
function spreadingProfile() {
  const profile = defaultProfile();
  for (const p of profile.plugins) {
    if (p.name !== 'PodTopologySpread') continue;
    p.args = {
      defaultConstraints: [
        { maxSkew: 3, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
        { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
      ],
      defaultSelector: (pod: {
        metadata: { labels?: Record<string, string>; ownerReferences?: { controller?: boolean }[] };
      }) =>
        pod.metadata.ownerReferences?.some((r) => r.controller) && pod.metadata.labels
          ? selectorFromSet(pod.metadata.labels)
          : undefined,
    };
  }
  return profile;
}

/** kube-scheduler: elected through the kube-scheduler Lease, scheduling only while it leads. */
export async function runScheduler(
  config: ClientConnection,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const client = new HttpRestClient(config, { component: 'kube-scheduler' });
  const identity = `${hostname()}_${randomBytes(6).toString('hex')}`;
  while (!signal.aborted) {
    const elector = new LeaderElector({
      client,
      namespace: 'kube-system',
      name: 'kube-scheduler',
      identity,
      logger: log,
      callbacks: {
        onStartedLeading: (leading) => {
          log.info({ identity }, 'scheduler is leading');
          // The scheduler never reads managedFields: its informers drop them, as kube-scheduler's do.
          const informers = new InformerFactory(client, { logger: log, transform: stripManagedFields });
          const scheduler = new Scheduler({
            client,
            informers: {
              pods: informers.informer(PODS),
              nodes: informers.informer(NODES),
              namespaces: informers.informer(NAMESPACES),
              pdbs: informers.informer(POD_DISRUPTION_BUDGETS),
              priorityClasses: informers.informer(PRIORITY_CLASSES),
            } as never,
            logger: log,
            instance: identity,
            profiles: [spreadingProfile()],
          });
          informers.start(leading);
          void scheduler.run(leading);
        },
        onStoppedLeading: () => log.info({ identity }, 'scheduler stopped leading'),
      },
    });
    await elector.run(signal);
  }
}
