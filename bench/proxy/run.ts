/**
 * kube-proxy benchmark, in network namespaces (needs root; the host's iptables is never touched):
 *
 * 1. Full sync of 1,000 Services × 10 endpoints: rule generation + iptables-restore (nft backend)
 *    into a scratch node namespace; the first sync (empty tables) and later full syncs (which also
 *    read iptables-save to check jumps and stale chains).
 * 2. One endpoint change applied: one Service's slice loses an endpoint and gains another; the
 *    incremental sync (generation + iptables-restore) that follows.
 * 3. Connections/s from one pod to another: through a ClusterIP (with the 1,000 Services' rules in
 *    place) against straight to the pod IP, in back-to-back pairs of runs (alternating which goes
 *    first) in the same run; the ratio is the median of the pairs' ratios.
 *
 * Usage: node bench/proxy/run.ts [--services 1000] [--endpoints 10] [--rounds 5] [--conn-ms 2000]
 *        [--concurrency 16] [--pairs 10]
 * Prints a table of medians and how it was run.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExecIptablesRunner } from '../../src/proxy/iptables.ts';
import { destroyLabs, NetLab, netlabSkipReason } from '../../src/proxy/netlab.ts';
import { Proxier } from '../../src/proxy/proxier.ts';
import { service, slice } from '../../src/proxy/testdata.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    'conn-ms': { type: 'string', default: '1000' },
    pairs: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
  },
});
const SERVICES = Number(values.services);
const ENDPOINTS = Number(values.endpoints);
const ROUNDS = Number(values.rounds);
const CONN_MS = Number(values['conn-ms']);
const CONCURRENCY = Number(values.concurrency);
const PAIRS = Number(values.pairs);
const TAG = `bench${process.pid}`;

const skip = netlabSkipReason();
if (skip) {
  console.error(`bench/proxy: ${skip}`);
  process.exit(1);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const clusterIP = (i: number) => `10.43.${Math.floor(i / 250)}.${(i % 250) + 2}`;
const endpointIP = (i: number, j: number) =>
  `10.98.${Math.floor((i * ENDPOINTS + j) / 250) % 250}.${((i * ENDPOINTS + j) % 250) + 2}`;

await destroyLabs(TAG);
const lab = await NetLab.create({ tag: TAG, pods: 2 });
const cleanup = async () => {
  await lab.destroy();
};
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

try {
  const runner = new ExecIptablesRunner({ netns: lab.nodeNs });
  const proxier = new Proxier({ runner, nodeName: 'node-1', clusterCIDR: '10.96.0.0/12' });
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    proxier.setService(service(name, clusterIP(i), [{ name: 'http', port: 80, protocol: 'TCP' }]));
    proxier.setEndpointSlice(
      slice(
        name,
        [{ name: 'http', port: 8080 }],
        Array.from({ length: ENDPOINTS }, (_, j) => ({ ip: endpointIP(i, j), nodeName: `node-${j % 3}` })),
      ),
    );
  }
  // The service the connection test uses: one endpoint, the server pod.
  const [server, client] = lab.pods as [(typeof lab.pods)[0], (typeof lab.pods)[0]];
  const benchIP = '10.43.250.2';
  proxier.setService(service('bench', benchIP, [{ port: 80, protocol: 'TCP' }]));
  proxier.setEndpointSlice(slice('bench', [{ port: 8080 }], [{ ip: server.ip }]));

  // 1. Full syncs.
  const first = await proxier.sync(true);
  const fulls = [first];
  for (let r = 0; r < ROUNDS; r++) fulls.push(await proxier.sync(true));
  const natRules = (await runner.save('nat')).split('\n').filter((l) => l.startsWith('-A')).length;

  // 2. One endpoint change at a time.
  const partials = [];
  for (let r = 0; r < Math.max(ROUNDS * 4, 10); r++) {
    const i = (r * 37) % SERVICES;
    const eps = Array.from({ length: ENDPOINTS }, (_, j) => ({ ip: endpointIP(i, j), nodeName: 'node-1' }));
    eps[0] = { ip: `10.97.${r % 250}.${(i % 250) + 2}`, nodeName: 'node-1' };
    proxier.setEndpointSlice(slice(`svc-${i}`, [{ name: 'http', port: 8080 }], eps));
    partials.push(await proxier.sync());
  }

  // 3. Connections/s: pod → ClusterIP vs pod → pod IP.
  await lab.serve(server.netns, 8080, 'pong');
  const load = (host: string, port: number) => {
    const out = execFileSync(
      'ip',
      [
        'netns',
        'exec',
        client.netns,
        process.execPath,
        join(import.meta.dirname, 'load.ts'),
        host,
        String(port),
        String(CONN_MS),
        String(CONCURRENCY),
      ],
      { encoding: 'utf8' },
    );
    const r = JSON.parse(out) as { conns: number; errors: number; ms: number };
    if (r.errors > 0) console.error(`  ${host}: ${r.errors} failed connections`);
    return (r.conns / r.ms) * 1000;
  };
  load(server.ip, 8080); // warm up
  // Pairs measured back to back, alternating which goes first (the machine's load drifts).
  const direct: number[] = [];
  const viaCluster: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < PAIRS; r++) {
    let d: number;
    let c: number;
    if (r % 2 === 0) {
      d = load(server.ip, 8080);
      c = load(benchIP, 80);
    } else {
      c = load(benchIP, 80);
      d = load(server.ip, 8080);
    }
    direct.push(d);
    viaCluster.push(c);
    ratios.push(c / d);
  }

  const fmt = (n: number) => n.toFixed(0);
  const fullMs = fulls.slice(1).map((r) => r.totalMs);
  const rows: [string, string, string][] = [
    [
      'first full sync (empty tables), ms',
      fmt(first.totalMs),
      `generate ${first.generateMs} + restore ${first.restoreMs}`,
    ],
    [
      'full sync (rules present), ms',
      fmt(median(fullMs)),
      `iptables-save ${median(fulls.slice(1).map((r) => r.totalMs - r.generateMs - r.restoreMs))} + generate ${median(fulls.slice(1).map((r) => r.generateMs))} + restore ${median(fulls.slice(1).map((r) => r.restoreMs))}; kube-proxy does this hourly`,
    ],
    [
      'one endpoint change applied, ms',
      fmt(median(partials.map((r) => r.totalMs))),
      `generate ${median(partials.map((r) => r.generateMs))} + restore ${median(partials.map((r) => r.restoreMs))}; ${partials[0]!.chainsWritten} chains written, ${partials[0]!.chainsDeleted} deleted; ${(median(partials.map((r) => r.inputBytes)) / 1024).toFixed(0)} KiB input; target ≤ 100`,
    ],
    [
      'connections/s pod → pod IP',
      fmt(median(direct)),
      `${CONCURRENCY} concurrent, ${PAIRS} pairs of ${CONN_MS} ms runs`,
    ],
    [
      'connections/s pod → ClusterIP',
      fmt(median(viaCluster)),
      `${(median(ratios) * 100).toFixed(0)}% of direct (median of per-pair ratios); target ≥ 90%`,
    ],
  ];
  console.log(
    `\nkube-proxy (iptables, nft backend): ${SERVICES} Services × ${ENDPOINTS} endpoints = ${natRules} nat rules; ${cpus().length} CPUs (load average ${loadavg()[0]!.toFixed(1)} at the end); node ${process.version}`,
  );
  console.log('medians of', ROUNDS, 'rounds (endpoint changes:', partials.length, ')\n');
  console.log('| measure | median | notes |');
  console.log('|---|---:|---|');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  console.log(
    `\nrun: node bench/proxy/run.ts --services ${SERVICES} --endpoints ${ENDPOINTS} --rounds ${ROUNDS} --pairs ${PAIRS} --conn-ms ${CONN_MS} --concurrency ${CONCURRENCY}`,
  );
  console.log(
    `raw: full ${JSON.stringify(fullMs)} direct ${JSON.stringify(direct.map(Math.round))} cluster ${JSON.stringify(viaCluster.map(Math.round))}`,
  );
} finally {
  await cleanup();
}
