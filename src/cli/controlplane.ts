/**
 * Starts the scheduler and the controller manager as API clients of a running API server (inside
 * `skiff server`, like k3s, over the API server's loopback connections; or standalone over HTTPS),
 * each elected through its Lease so several servers can run them.
 */

import type { LoopbackClientConfig } from '../apiserver/server.ts';
import { type ClientConnection, HttpRestClient } from '../client/rest.ts';
import { isLoopback, type LoopbackConnection } from '../client/transport.ts';
import type { ControllerOptions } from '../controllers/controller.ts';
import { CronJobController } from '../controllers/cronjob/index.ts';
import { DaemonSetController } from '../controllers/daemonset/index.ts';
import { DeploymentController } from '../controllers/deployment/controller.ts';
import { DisruptionController } from '../controllers/disruption/index.ts';
import { EndpointsController } from '../controllers/endpoints/index.ts';
import { EndpointSliceController } from '../controllers/endpointslice/index.ts';
import { GarbageCollector } from '../controllers/garbagecollector/controller.ts';
import { HttpDiscovery } from '../controllers/garbagecollector/discovery.ts';
import { JobController, TtlAfterFinishedController } from '../controllers/job/index.ts';
import { LocalPathController } from '../controllers/localpath/index.ts';
import { ControllerManager } from '../controllers/manager.ts';
import { NamespaceController } from '../controllers/namespace/index.ts';
import { NodeIpamController } from '../controllers/nodeipam/index.ts';
import { NodeLifecycleController, TaintEvictionController } from '../controllers/nodelifecycle/index.ts';
import { PodGcController } from '../controllers/podgc/index.ts';
import { PersistentVolumeBinderController, PvcProtectionController } from '../controllers/pvbinder/index.ts';
import { ReplicaSetController } from '../controllers/replicaset/controller.ts';
import { RootCaCertPublisher } from '../controllers/rootca/index.ts';
import { ServiceAccountController } from '../controllers/serviceaccount/index.ts';
import { StatefulSetController } from '../controllers/statefulset/index.ts';
import { ServiceLBController } from '../proxy/index.ts';
import type { Logger } from '../util/log.ts';
import { runScheduler } from './run-scheduler.ts';
import { runSchedulerThread } from './scheduler-thread.ts';

export interface ControlPlaneOptions {
  /** How the components reach the API server: its loopback connection in-process, or HTTPS. */
  config: ClientConnection;
  /**
   * The cluster CA certificate (PEM) the root-ca publisher puts in every namespace's
   * kube-root-ca.crt ConfigMap. Default: an HTTPS config's `ca`; without one, no publisher runs.
   */
  rootCa?: string;
  /** Where the local-path provisioner puts volumes on each node (k3s: DATA_DIR/storage). */
  localStorageRoot?: string;
  log: Logger;
  controllerOptions?: Partial<ControllerOptions>;
  scheduler?: boolean;
  controllers?: boolean;
}

/** Whether the API server behind `c` also serves connections from worker threads. */
function isThreadServing(c: LoopbackConnection): c is LoopbackClientConfig {
  return typeof (c as Partial<LoopbackClientConfig>).accept === 'function';
}

/** Starts what is enabled; everything stops when `signal` aborts. Resolves once all has stopped. */
export async function runControlPlane(opts: ControlPlaneOptions, signal: AbortSignal): Promise<void> {
  const running: Promise<void>[] = [];
  if (opts.controllers !== false) {
    running.push(runControllerManager(opts, signal));
    // k3s's ServiceLB: LoadBalancer Services get the nodes' addresses as their ingress (idempotent
    // status writes, so several servers may each run one).
    const client = new HttpRestClient(opts.config, { component: 'service-lb-controller' });
    running.push(
      new ServiceLBController({ client, logger: opts.log.child({ component: 'service-lb' }) }).run(signal),
    );
  }
  if (opts.scheduler !== false) {
    // In `skiff server` the scheduler gets its own thread (the API server keeps the main one).
    // SKIFF_SCHEDULER_INLINE=1 keeps it on the main thread (for A/B benchmarks).
    const config = opts.config;
    running.push(
      isLoopback(config) && isThreadServing(config) && process.env.SKIFF_SCHEDULER_INLINE !== '1'
        ? runSchedulerThread(config, opts.log, signal)
        : runScheduler(config, opts.log.child({ component: 'scheduler' }), signal),
    );
  }
  await Promise.all(running);
}

async function runControllerManager(opts: ControlPlaneOptions, signal: AbortSignal): Promise<void> {
  const client = new HttpRestClient(opts.config, { component: 'kube-controller-manager' });
  const discovery = new HttpDiscovery(opts.config, { userAgent: 'skiff-kube-controller-manager' });
  const log = opts.log.child({ component: 'controller-manager' });
  const rootCa = opts.rootCa ?? (isLoopback(opts.config) ? undefined : opts.config.ca);
  const manager = new ControllerManager({
    client,
    logger: log,
    options: opts.controllerOptions,
    controllers: [
      new ReplicaSetController(),
      new DeploymentController(),
      new JobController(),
      new TtlAfterFinishedController(),
      new CronJobController(),
      new DaemonSetController(),
      new StatefulSetController(),
      new NamespaceController({ discovery }),
      new ServiceAccountController(),
      ...(rootCa ? [new RootCaCertPublisher({ rootCa })] : []),
      new GarbageCollector({ discovery }),
      new EndpointsController(),
      new EndpointSliceController(),
      new PodGcController(),
      new DisruptionController({ discovery }),
      new NodeLifecycleController(),
      new TaintEvictionController(),
      new NodeIpamController(),
      new PersistentVolumeBinderController(),
      new PvcProtectionController(),
      ...(opts.localStorageRoot ? [new LocalPathController({ storageRoot: opts.localStorageRoot })] : []),
    ],
  });
  try {
    await manager.run(signal);
  } finally {
    discovery.close();
  }
}
