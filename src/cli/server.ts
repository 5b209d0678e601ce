/**
 * `skiff server`: the control plane in one process — datastore, API server, scheduler, controllers —
 * and this machine's node (kubelet on containerd), like `k3s server`.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newJoinToken } from '../api/jointoken.ts';
import { parseDisabledAdmissionPlugins } from '../apiserver/admission.ts';
import { joinHandlers } from '../apiserver/auth/join.ts';
import { writeKubeconfig } from '../apiserver/auth/kubeconfig.ts';
import {
  ensurePki,
  hostSans,
  issueCertificate,
  NODES_GROUP,
  type Pki,
  writeAtomic,
} from '../apiserver/auth/pki.ts';
import { ServiceAccountTokens } from '../apiserver/auth/serviceaccount/index.ts';
import { bootstrapCluster, reconcileKubernetesEndpoints } from '../apiserver/bootstrap.ts';
import { createApiServer } from '../apiserver/index.ts';
import { HttpRestClient } from '../client/rest.ts';
import { ensureLocalPathStorageClass } from '../controllers/localpath/index.ts';
import {
  DEFAULT_DNS_PORT,
  DEFAULT_METRICS_PORT,
  DnsServer,
  dnsServiceIp,
  ensureDnsService,
} from '../dns/index.ts';
import { loadCredentials, saveCredentials } from '../kubelet/join.ts';
import { type PreparedRuntime, prepareRuntime } from '../kubelet/kubelet.ts';
import { SqliteStore } from '../storage/sqlite/store.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { http } from '../util/node-http.ts';
import { runControlPlane } from './controlplane.ts';
import { DEFAULT_DATA_DIR } from './defaults.ts';
import {
  type NodeFlags,
  nodeFlagOptions,
  nodeFlagsHelp,
  nodeNameOf,
  type RunningNode,
  startNode,
} from './node.ts';

export { DEFAULT_DATA_DIR };

export const serverHelp = `Usage: skiff server [flags]

Runs the control plane: the embedded SQLite datastore (DATA_DIR/db/state.db), the Kubernetes API
server over HTTPS, the scheduler and the controller manager; and this machine's node: a kubelet
running pods on its own containerd (DATA_DIR/agent). On first start it creates a cluster CA, a
serving certificate and admin credentials in DATA_DIR/tls and a join token in DATA_DIR/token (other
machines join with 'skiff agent --server URL --token TOKEN'); once ready it writes an admin
kubeconfig to DATA_DIR/kubeconfig.yaml (use it with 'skiff kubectl' or any kubectl). Stops cleanly on
SIGINT/SIGTERM; containers keep running and are re-adopted at the next start ('skiff uninstall'
removes them). 'skiff sim' adds simulated nodes.

Flags:
  --data-dir DIR             where skiff keeps its state (default ${DEFAULT_DATA_DIR})
  --https-listen-port PORT   API server port (default 6443)
  --bind-address ADDR        API server address (default 0.0.0.0, every address; the admin
                             kubeconfig uses 127.0.0.1; pods reach it through the kubernetes Service)
  --tls-san NAME             extra DNS name or IP for the serving certificate (repeatable)
  --disable-agent            run the control plane only (no kubelet, no containerd)
  --disable-dns              do not run cluster DNS (kube-dns at the tenth service address)
  --dns-port PORT            the port cluster DNS listens on, on all addresses (default 10053;
                             pods reach it at <tenth service address>:53 through kube-proxy)
  --dns-metrics-port PORT    cluster DNS metrics (/metrics) port (default 9153; 0: none)
  --service-cidr CIDR        Service cluster IP range (default 10.43.0.0/16)
  --cluster-cidr CIDR        pod IP range (default 10.42.0.0/16)
  --event-ttl DURATION       how long Events are kept after their last change (default 1h)
  --disable-admission-plugins LIST  admission plugins to turn off, comma-separated:
                             ServiceAccount, DefaultTolerationSeconds (default: none)
  --disable-scheduler        do not run the scheduler
  --disable-controller-manager  do not run the controllers
  --node-monitor-grace-period DURATION  how long a node may miss heartbeats before it is
                             marked NotReady/Unknown (default 40s)
  --default-not-ready-toleration-seconds N, --default-unreachable-toleration-seconds N
                             how long pods stay on a not-ready/unreachable node (default 300)
  --retain-revisions N       revisions of history the datastore keeps for watches (default 1000)
  -h, --help                 show this help

${nodeFlagsHelp}`;

export async function runServer(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      'https-listen-port': { type: 'string', default: '6443' },
      'bind-address': { type: 'string', default: '0.0.0.0' },
      'tls-san': { type: 'string', multiple: true, default: [] },
      'disable-agent': { type: 'boolean', default: false },
      'disable-dns': { type: 'boolean', default: false },
      'dns-port': { type: 'string', default: String(DEFAULT_DNS_PORT) },
      'dns-metrics-port': { type: 'string', default: String(DEFAULT_METRICS_PORT) },
      'service-cidr': { type: 'string', default: '10.43.0.0/16' },
      'cluster-cidr': { type: 'string', default: '10.42.0.0/16' },
      ...nodeFlagOptions,
      'retain-revisions': { type: 'string', default: '1000' },
      'datastore-endpoint': { type: 'string' },
      'event-ttl': { type: 'string', default: '1h' },
      'disable-admission-plugins': { type: 'string' },
      'disable-scheduler': { type: 'boolean', default: false },
      'disable-controller-manager': { type: 'boolean', default: false },
      'node-monitor-grace-period': { type: 'string', default: '40s' },
      'default-not-ready-toleration-seconds': { type: 'string', default: '300' },
      'default-unreachable-toleration-seconds': { type: 'string', default: '300' },
    },
    strict: true,
  });
  const log = createLogger('skiff');
  const dataDir = values['data-dir'];
  const port = Number(values['https-listen-port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--https-listen-port must be a port number, got ${values['https-listen-port']}`);
  }
  const retain = Number(values['retain-revisions']);
  if (!Number.isSafeInteger(retain) || retain < 0) {
    throw new Error(`--retain-revisions must be a non-negative integer, got ${values['retain-revisions']}`);
  }
  const seconds = (flag: string) => {
    const n = Number(values[flag as keyof typeof values]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag} must be a whole number of seconds`);
    return n;
  };
  const notReadySeconds = seconds('default-not-ready-toleration-seconds');
  const unreachableSeconds = seconds('default-unreachable-toleration-seconds');
  const gracePeriodS = parseDuration(values['node-monitor-grace-period'], '--node-monitor-grace-period');
  const disabledAdmissionPlugins = parseDisabledAdmissionPlugins(values['disable-admission-plugins']);
  if (values['datastore-endpoint']) {
    throw new Error(
      '--datastore-endpoint (etcd) is not supported yet; omit it to use the embedded SQLite datastore',
    );
  }
  // Handle SIGINT/SIGTERM from the start: a signal during start-up stops the server cleanly once the
  // step in progress is done, instead of killing it half-way.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  mkdirSync(join(dataDir, 'db'), { recursive: true, mode: 0o700 });
  const store = new SqliteStore({
    path: join(dataDir, 'db', 'state.db'),
    retainRevisions: retain,
    logger: log,
  });
  log.info({ dataDir, revision: store.stats().revision, ms: ms() }, 'datastore opened');
  const components = new AbortController();
  // The node's containerd needs nothing from the API server: it starts while the control plane does.
  const runtime = values['disable-agent']
    ? undefined
    : prepareRuntime({
        dataDir,
        containerRuntimeEndpoint: values['container-runtime-endpoint'],
        logger: log,
        signal: components.signal,
      });
  runtime?.catch(() => {}); // reported by the node's start

  let api: ReturnType<typeof createApiServer> | undefined;
  let node: RunningNode | undefined;
  let dns: DnsServer | undefined;
  let dnsMetrics: Server | undefined;
  try {
    const sans = values['tls-san'];
    const pki = await ensurePki(dataDir, {
      hostnames: sans.filter((s) => !/^[\d.:]+$/.test(s)),
      ips: sans.filter((s) => /^[\d.:]+$/.test(s)),
    });
    if (pki.issued.length) log.info({ issued: pki.issued, ms: ms() }, 'certificates issued');
    const token = ensureJoinToken(dataDir, pki.ca.cert);

    api = createApiServer({
      store,
      tls: { cert: pki.serving.cert, key: pki.serving.key, ca: pki.ca.cert },
      host: values['bind-address'],
      port,
      logger: log,
      serviceCidr: values['service-cidr'],
      kubeletClient: { cert: pki.kubeletClient.cert, key: pki.kubeletClient.key, ca: pki.ca.cert },
      publicHandlers: joinHandlers({ ca: pki.ca, token }),
      eventTtlSeconds: parseDuration(values['event-ttl'], '--event-ttl'),
      defaultNotReadyTolerationSeconds: notReadySeconds,
      defaultUnreachableTolerationSeconds: unreachableSeconds,
      disabledAdmissionPlugins,
      serviceAccounts: new ServiceAccountTokens({
        signingKey: pki.serviceAccount.privateKey,
        publicKeys: [pki.serviceAccount.publicKey],
      }),
    });
    const bound = await api.listen();
    await bootstrapCluster(api.registry, api.catalog, {
      clusterIp: api.allocator.apiServerIp,
      targetPort: bound,
    });
    api.setReady(true);
    const host =
      values['bind-address'] === '0.0.0.0' || values['bind-address'] === '::'
        ? '127.0.0.1'
        : values['bind-address'];
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    const kubeconfig = join(dataDir, 'kubeconfig.yaml');
    const admin = { server, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
    // The control-plane components in this process reach the API server over its loopback
    // connections (in memory, no TLS; kube-apiserver's loopback client). The local node's kubelet
    // and kube-proxy stay on HTTPS with the node's own certificate, like any node.
    const loopback = api.loopbackClientConfig();
    await ensureLocalPathStorageClass(new HttpRestClient(loopback, { component: 'skiff-server' }));
    writeKubeconfig(kubeconfig, admin);
    const localStorageRoot = join(dataDir, 'storage');
    void runControlPlane(
      {
        config: loopback,
        rootCa: pki.ca.cert,
        localStorageRoot,
        log,
        scheduler: !values['disable-scheduler'],
        controllers: !values['disable-controller-manager'],
        controllerOptions: {
          nodeMonitorGracePeriodMs: gracePeriodS * 1000,
          defaultNotReadyTolerationSeconds: notReadySeconds,
          defaultUnreachableTolerationSeconds: unreachableSeconds,
          clusterCidr: values['cluster-cidr'],
        },
      },
      components.signal,
    ).catch((err: unknown) => log.error({ err }, 'the scheduler or controller manager failed'));
    log.info(
      { server, kubeconfig, token: join(dataDir, 'token'), ms: ms() },
      `API server ready; try: bin/skiff kubectl --data-dir ${dataDir} get nodes`,
    );
    // Cluster DNS: before the node, so its kubelet writes pods' resolv.conf with kube-dns's address.
    const serviceCidr = values['service-cidr'];
    const dnsPort = Number(values['dns-port']);
    const dnsMetricsPort = Number(values['dns-metrics-port']);
    if (!values['disable-dns']) {
      const dnsIp = dnsServiceIp(serviceCidr);
      dns = new DnsServer({
        client: new HttpRestClient(loopback, { component: 'skiff-dns' }),
        clusterDomain: values['cluster-domain'],
        address: '0.0.0.0',
        port: dnsPort,
        nameserverIPs: [dnsIp],
        logger: log,
      });
      try {
        await dns.start();
      } catch (err) {
        // Not fatal: the cluster runs without names; pods then get the host resolv.conf.
        log.error({ err }, `cluster DNS cannot listen on port ${dnsPort} (try --dns-port or --disable-dns)`);
        dns = undefined;
      }
      if (dns && dnsMetricsPort > 0) {
        const handler = dns.metrics.handler();
        dnsMetrics = http
          .createServer((req, res) => {
            if (req.url === '/metrics') handler(req, res);
            else res.writeHead(404).end();
          })
          .listen(dnsMetricsPort, '0.0.0.0');
        dnsMetrics.on('error', (err) => log.warn({ err }, 'cluster DNS metrics server failed'));
      }
      if (dns && values['cluster-dns'].length === 0) values['cluster-dns'] = [dnsIp];
      // Without a local node, the Service's endpoint is --node-ip (agents' kube-proxies DNAT to it).
      if (
        values['disable-agent'] &&
        values['node-ip'] &&
        reachableFrom(values['bind-address'], values['node-ip'])
      ) {
        await reconcileKubernetesEndpoints(api.registry, api.catalog, { ip: values['node-ip'], port: bound });
      }
      if (dns && values['disable-agent']) {
        if (values['node-ip']) {
          await ensureDnsService(new HttpRestClient(loopback, { component: 'skiff-server' }), serviceCidr, {
            endpointIP: values['node-ip'],
            dnsPort,
            metricsPort: dnsMetricsPort || DEFAULT_METRICS_PORT,
          });
        } else {
          log.warn('cluster DNS has no endpoint: give --node-ip (the address agents reach this server at)');
        }
      }
    }
    if (!values['disable-agent']) {
      startLocalNode(
        {
          dataDir,
          server,
          pki,
          flags: values,
          clusterCidr: values['cluster-cidr'],
          localStorageRoot,
          runtime,
          log,
        },
        components.signal,
      )
        .then(async (n) => {
          node = n;
          // kube-dns's endpoint: this node's InternalIP, where the DNS server listens.
          const endpointIP = n.kubelet.nodeIPs[0];
          // The kubernetes Service's endpoint, for pods that talk to the API (in-cluster config).
          if (endpointIP && api && reachableFrom(values['bind-address'], endpointIP)) {
            await reconcileKubernetesEndpoints(api.registry, api.catalog, {
              ip: endpointIP,
              port: bound,
            }).catch((err: unknown) => log.error({ err }, 'cannot write the kubernetes Service endpoints'));
          }
          if (dns && endpointIP) {
            await ensureDnsService(new HttpRestClient(loopback, { component: 'skiff-server' }), serviceCidr, {
              endpointIP,
              dnsPort,
              metricsPort: dnsMetricsPort || DEFAULT_METRICS_PORT,
              nodeName: nodeNameOf(values),
            }).catch((err: unknown) => log.error({ err }, 'cluster DNS: cannot make the kube-dns Service'));
          }
        })
        .catch((err: unknown) =>
          log.error(
            { err },
            'the node agent failed to start: pods cannot run on this machine (run scripts/setup.sh to install containerd, or start with --disable-agent)',
          ),
        );
    }
  } catch (err) {
    // Start-up failed half-way: release the port and the datastore so the process can exit.
    components.abort();
    await runtime?.then((r) => r.supervisor?.stop()).catch(() => {});
    await dns?.stop().catch(() => {});
    dnsMetrics?.close();
    await api?.close().catch(() => {});
    await store.close();
    throw err;
  }
  log.info({ signal: await stopped }, 'shutting down');
  components.abort();
  if (node) await node.stop();
  else await runtime?.then((r) => r.supervisor?.stop()).catch(() => {});
  await dns?.stop();
  dnsMetrics?.close();
  await api.close();
  await store.close();
  log.info('stopped');
  return 0;
}

/** Seconds in a Go-style duration such as 90s, 5m, 1h or 1h30m. */
export function parseDuration(text: string, flag: string): number {
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms)/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
    matched += m[0].length;
  }
  if (!text || matched !== text.length || total <= 0) {
    throw new Error(`${flag} must be a duration such as 30m or 1h, got ${JSON.stringify(text)}`);
  }
  return total;
}

/** DATA_DIR/token: created once (mode 0600), as k3s keeps its server token. */
function ensureJoinToken(dataDir: string, caPem: string): string {
  const file = join(dataDir, 'token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = newJoinToken(caPem);
  writeAtomic(file, `${token}\n`, 0o600);
  return token;
}

/**
 * This machine's node: its credentials come straight from the cluster CA (an agent gets the same
 * through the join token), then the kubelet starts as on any node.
 */
async function startLocalNode(
  opts: {
    dataDir: string;
    server: string;
    pki: Pki;
    flags: NodeFlags;
    clusterCidr: string;
    localStorageRoot: string;
    runtime?: Promise<PreparedRuntime>;
    log: Logger;
  },
  signal: AbortSignal,
): Promise<RunningNode> {
  const agentDir = join(opts.dataDir, 'agent');
  const nodeName = nodeNameOf(opts.flags);
  const sans = hostSans();
  const ips = [...new Set([...sans.ips, ...(opts.flags['node-ip'] ? [opts.flags['node-ip']] : [])])];
  let creds = loadCredentials(agentDir, nodeName, ips);
  if (!creds || creds.ca !== opts.pki.ca.cert) {
    const client = await issueCertificate(opts.pki.ca, {
      commonName: `system:node:${nodeName}`,
      organizations: [NODES_GROUP],
      usage: 'client',
    });
    const serving = await issueCertificate(opts.pki.ca, {
      commonName: nodeName,
      usage: 'server',
      dnsNames: [...new Set([nodeName, ...sans.dnsNames])],
      ips,
    });
    creds = { ca: opts.pki.ca.cert, client, serving };
    saveCredentials(agentDir, creds);
  }
  return startNode(
    {
      dataDir: opts.dataDir,
      flags: opts.flags,
      clusterCidr: opts.clusterCidr,
      server: opts.server,
      credentials: creds,
      roles: ['control-plane', 'master'],
      localStorageRoot: opts.localStorageRoot,
      runtime: opts.runtime,
      log: opts.log,
    },
    signal,
  );
}

/** Whether an API server bound to `bind` answers on `ip` (a wildcard bind answers everywhere). */
function reachableFrom(bind: string, ip: string): boolean {
  return bind === '0.0.0.0' || bind === '::' || bind === ip;
}
