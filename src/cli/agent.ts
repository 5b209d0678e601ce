/**
 * `skiff agent`: a worker node, like `k3s agent` — joins a cluster with the server's join token and
 * runs a kubelet on its own containerd.
 */
import { readFileSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hostSans } from '../apiserver/auth/names.ts';
import { HttpRestClient } from '../client/rest.ts';
import { dnsServiceIpFromApi } from '../dns/service.ts';
import { ensureNodeCredentials } from '../kubelet/join.ts';
import { createLogger } from '../util/log.ts';
import { DEFAULT_DATA_DIR } from './defaults.ts';
import { nodeFlagOptions, nodeFlagsHelp, nodeNameOf, startNode } from './node.ts';

export const agentHelp = `Usage: skiff agent --server URL --token TOKEN [flags]

Joins this machine to a cluster as a node: fetches its credentials from the server with the join
token (the server keeps it in DATA_DIR/token), then runs a kubelet on its own containerd, as
'skiff server' does for its own node. Stops on SIGINT/SIGTERM; containers keep running and are
re-adopted at the next start ('skiff uninstall' removes them).

Flags:
  --server URL               the API server, e.g. https://10.0.0.1:6443 (required)
  --token TOKEN              the join token (or --token-file FILE)
  --token-file FILE          read the join token from FILE
  --data-dir DIR             where the agent keeps its state (default ${DEFAULT_DATA_DIR})
  --cluster-cidr CIDR        the cluster's pod network, as given to the server (default 10.42.0.0/16)
  --cleanup                  remove everything this node made (as 'skiff uninstall') and exit
  -h, --help                 show this help

${nodeFlagsHelp}`;

export async function runAgent(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      'token-file': { type: 'string' },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      cleanup: { type: 'boolean', default: false },
      'cluster-cidr': { type: 'string', default: '10.42.0.0/16' },
      ...nodeFlagOptions,
    },
    strict: true,
  });
  // Loaded only for --cleanup: its code stays out of a running agent's memory.
  if (values.cleanup)
    return (await import('./uninstall.ts')).runUninstall(['--data-dir', values['data-dir']]);
  // Node keeps every loaded module's compile-cache entry (its V8 code cache and, for TypeScript, the
  // stripped source) in memory until exit; writing them out now, once the agent's modules are
  // loaded, frees that before start-up's allocations, which reuse it (~2.5 MB of an idle agent's
  // RSS). Modules loaded later, on first use, keep theirs until exit: too few to matter.
  flushCompileCache();
  if (!values.server) throw new Error('--server is required, e.g. --server https://10.0.0.1:6443');
  const token =
    values.token ?? (values['token-file'] ? readFileSync(values['token-file'], 'utf8').trim() : '');
  if (!token) throw new Error('--token (or --token-file) is required: copy DATA_DIR/token from the server');
  const log = createLogger('skiff');
  const dataDir = values['data-dir'];
  const stop = new AbortController();
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const nodeName = nodeNameOf(values);
  const sans = hostSans();
  const ips = [...new Set([...sans.ips, ...(values['node-ip'] ? [values['node-ip']] : [])])];
  const credentials = await ensureNodeCredentials({
    agentDir: join(dataDir, 'agent'),
    server: values.server,
    token,
    nodeName,
    ips,
    dnsNames: sans.dnsNames,
    logger: log,
  });
  // --cluster-dns defaults to the cluster's kube-dns Service, as the server's own node gets it.
  if (values['cluster-dns'].length === 0) {
    const client = new HttpRestClient(
      {
        server: values.server,
        ca: credentials.ca,
        cert: credentials.client.cert,
        key: credentials.client.key,
      },
      { component: 'skiff-agent' },
    );
    const ip = await dnsServiceIpFromApi(client)
      .catch((err: unknown) => {
        log.warn({ err }, 'cannot read the kube-dns Service: pods get the host resolv.conf');
        return null;
      })
      .finally(() => client.close());
    if (ip) values['cluster-dns'] = [ip];
  }
  const node = await startNode(
    {
      dataDir,
      flags: values,
      clusterCidr: values['cluster-cidr'],
      server: values.server,
      credentials,
      localStorageRoot: join(dataDir, 'storage'),
      log,
    },
    stop.signal,
  );
  log.info({ signal: await stopped }, 'shutting down');
  stop.abort();
  await node.stop();
  log.info('stopped');
  return 0;
}
