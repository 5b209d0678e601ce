/**
 * kube-proxy benchmark, in network namespaces (needs root; the host's rules are never touched), for
 * each proxy mode in the same run — iptables (iptables-restore, nft backend) and nftables (nft) —
 * alternating which mode goes first from one round to the next (the machine's load drifts):
 *
 * 1. First full sync of 1,000 Services × 10 endpoints: a new proxier (rule generation included)
 *    into an empty scratch namespace, once per round.
 * 2. Full sync with the rules present (iptables also reads iptables-save to check jumps and stale
 *    chains; nftables deletes and recreates its table), in each mode's node namespace.
 * 3. One endpoint change applied: one Service's slice loses an endpoint and gains another (the
 *    number of endpoints stays: nftables changes map and set elements only); the incremental sync
 *    (generation + restore/nft) that follows. Then, as often, one endpoint added to or removed from
 *    a Service (the number changes: nftables also rewrites the service chain's `mod N` rule).
 * 4. Connections/s from one pod to another: through a ClusterIP (with the 1,000 Services' rules in
 *    place) against straight to the pod IP. One long-lived load process (bench/proxy/load.ts) per
 *    block of pairs runs back-to-back slices, alternating which target goes first, and reports its
 *    own timed windows (no process start-up inside them); the blocks alternate between the modes.
 *    The two paths never share a TCP 4-tuple: the direct path goes to the server pod's port 8080,
 *    the Service to its port 8081 (one server process listens on both). The server closes first,
 *    so it holds every connection in TIME_WAIT for 60 s; when the client reuses a port for the
 *    other path, the SYN reaches a TIME_WAIT socket whose timestamps and sequence numbers came from
 *    a different destination address (the ClusterIP before DNAT, the pod IP without), fails the
 *    PAWS check and has to be retransmitted. With one port for both that hit ~5% of connections and
 *    swung the ratio either way. The figure is the median of the pairs' ratios, with the quartiles
 *    and a bootstrap 95% interval; the run also prints the retransmitted SYNs, PAWS rejects and
 *    TIME_WAIT overflows in the pods, and conntrack insert failures in the node.
 *
 * Prints a table of medians per mode, the machine's load average during the run, and how it was
 * run. Targets are printed, never asserted.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inNetns, runCommand } from '../../src/proxy/exec.ts';
import { ExecIptablesRunner } from '../../src/proxy/iptables.ts';
import { destroyLabs, NetLab, netlabSkipReason } from '../../src/proxy/netlab.ts';
import { NftProxier } from '../../src/proxy/nftables/proxier.ts';
import { ExecNftRunner } from '../../src/proxy/nftables/runner.ts';
import { Proxier } from '../../src/proxy/proxier.ts';
import { service, slice } from '../../src/proxy/testdata.ts';
import {
  type ProxyMode,
  parseProxyMode,
  type ServiceProxier,
  type SyncResult,
} from '../../src/proxy/types.ts';

const USAGE = `usage: node bench/proxy/run.ts [options]   (root: uses network namespaces)
  --modes iptables,nftables   proxy modes to compare, in one run
  --services 1000             Services (one TCP port each)
  --endpoints 10              endpoints per Service
  --rounds 5                  full-sync rounds; endpoint changes: 4 × rounds of each kind (at least 10)
  --pairs 60                  pairs of connection-rate slices (pod IP, ClusterIP) per mode
  --conn-ms 250               length of one slice, ms
  --block 10                  pairs per load process (the modes alternate between blocks)
  --concurrency 16            connections in flight during a slice
  -h, --help                  this text`;

const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h', default: false },
    modes: { type: 'string', default: 'iptables,nftables' },
    services: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    'conn-ms': { type: 'string', default: '250' },
    pairs: { type: 'string', default: '60' },
    block: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const MODES = values.modes.split(',').map(parseProxyMode);
const SERVICES = Number(values.services);
const ENDPOINTS = Number(values.endpoints);
const ROUNDS = Number(values.rounds);
const CONN_MS = Number(values['conn-ms']);
const CONCURRENCY = Number(values.concurrency);
const PAIRS = Number(values.pairs);
const BLOCK = Number(values.block);
/** The server pod's port for direct connections, and the bench Service's target port. */
const DIRECT_PORT = 8080;
const SERVICE_TARGET_PORT = 8081;
const TAG = `bench${process.pid}`;
const SCRATCH = `skiffpx-${TAG}-scratch`;
const CLUSTER_CIDR = '10.96.0.0/12';
const BENCH_IP = '10.43.250.2';

const skip = netlabSkipReason();
if (skip) {
  console.error(`bench/proxy: ${skip}`);
  process.exit(1);
}

/** The q-quantile (0..1) of xs, linear between order statistics. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (i - lo);
}

/** Percentile-bootstrap 95% interval of the median of xs (fixed seed: the same data, the same interval). */
function bootstrapMedian(xs: number[], n = 2000): [number, number] {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const meds = Array.from({ length: n }, () =>
    median(Array.from(xs, () => xs[Math.floor(rand() * xs.length)]!)),
  );
  return [quantile(meds, 0.025), quantile(meds, 0.975)];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const clusterIP = (i: number) => `10.43.${Math.floor(i / 250)}.${(i % 250) + 2}`;
const endpointIP = (i: number, j: number) =>
  `10.98.${Math.floor((i * ENDPOINTS + j) / 250) % 250}.${((i * ENDPOINTS + j) % 250) + 2}`;

function makeProxier(mode: ProxyMode, netns: string): ServiceProxier {
  const common = { nodeName: 'node-1', clusterCIDR: CLUSTER_CIDR };
  return mode === 'iptables'
    ? new Proxier({ ...common, runner: new ExecIptablesRunner({ netns }) })
    : new NftProxier({ ...common, runner: new ExecNftRunner({ netns }) });
}

/** The 1,000 Services × 10 endpoints, and the bench Service (one endpoint: `serverIP`). */
function feed(p: ServiceProxier, serverIP: string): void {
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    p.setService(service(name, clusterIP(i), [{ name: 'http', port: 80, protocol: 'TCP' }]));
    p.setEndpointSlice(
      slice(
        name,
        [{ name: 'http', port: 8080 }],
        Array.from({ length: ENDPOINTS }, (_, j) => ({ ip: endpointIP(i, j), nodeName: `node-${j % 3}` })),
      ),
    );
  }
  p.setService(service('bench', BENCH_IP, [{ port: 80, protocol: 'TCP' }]));
  p.setEndpointSlice(slice('bench', [{ port: SERVICE_TARGET_PORT }], [{ ip: serverIP }]));
}

/** How many rules (and, for nftables, map/set elements) a mode's node namespace holds. */
function ruleCount(mode: ProxyMode, netns: string): string {
  const exec = (argv: string[]) =>
    execFileSync('ip', ['netns', 'exec', netns, ...argv], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (mode === 'iptables') {
    const nat = exec(['iptables-save', '-t', 'nat'])
      .split('\n')
      .filter((l) => l.startsWith('-A')).length;
    return `${nat} nat rules`;
  }
  const items = (
    JSON.parse(exec(['nft', '-j', 'list', 'table', 'ip', 'skiff-proxy'])) as {
      nftables: Record<string, { elem?: unknown[] }>[];
    }
  ).nftables;
  const n = (k: string) => items.filter((i) => i[k]).length;
  const elements = items.reduce((sum, i) => sum + (i.map?.elem?.length ?? 0) + (i.set?.elem?.length ?? 0), 0);
  return `${n('rule')} rules, ${n('chain')} chains, ${n('map') + n('set')} maps/sets, ${elements} elements`;
}

interface ModeRun {
  mode: ProxyMode;
  lab: NetLab;
  proxier: ServiceProxier;
  first: SyncResult[];
  fulls: SyncResult[];
  partials: SyncResult[];
  /** Endpoint changes that change the number of endpoints (one added, then removed again). */
  resizes: SyncResult[];
  /** ms of `ip netns exec <node> true` through the same command runner (in every restore / nft). */
  netnsExec: number[];
  direct: number[];
  viaCluster: number[];
  ratios: number[];
  /** Connections over 900 ms (a retransmitted SYN), direct and via the ClusterIP. */
  slow: { direct: number; cluster: number };
  /** Kernel counters over the connection-rate runs (pods: nstat; node: conntrack -S). */
  counters: Record<string, number>;
  rules: string;
}

const loads: number[] = [loadavg()[0]!];
const runs: ModeRun[] = [];
const cleanup = async () => {
  for (const r of runs) await r.lab.destroy();
  execFileSync('ip', ['netns', 'del', SCRATCH], { stdio: 'ignore' });
};
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

/** The modes, in an order that alternates with `round`. */
const ordered = (round: number) => (round % 2 ? [...runs].reverse() : runs);

await destroyLabs(TAG);
try {
  for (const [i, mode] of MODES.entries()) {
    const lab = await NetLab.create({ tag: `${TAG}${i}`, pods: 2 });
    const proxier = makeProxier(mode, lab.nodeNs);
    feed(proxier, lab.pods[0]!.ip);
    runs.push({
      mode,
      lab,
      proxier,
      first: [],
      fulls: [],
      partials: [],
      resizes: [],
      netnsExec: [],
      direct: [],
      viaCluster: [],
      ratios: [],
      slow: { direct: 0, cluster: 0 },
      counters: {},
      rules: '',
    });
  }

  // 1. First full syncs, into an empty namespace each time.
  for (let r = 0; r < ROUNDS; r++) {
    for (const run of ordered(r)) {
      execFileSync('ip', ['netns', 'add', SCRATCH]);
      try {
        const p = makeProxier(run.mode, SCRATCH);
        feed(p, run.lab.pods[0]!.ip);
        run.first.push(await p.sync(true));
      } finally {
        execFileSync('ip', ['netns', 'del', SCRATCH]);
      }
    }
    loads.push(loadavg()[0]!);
  }

  // 2. Full syncs with the rules present (the first one, into the empty node namespace, not counted).
  for (const run of runs) await run.proxier.sync(true);
  for (let r = 0; r < ROUNDS; r++) for (const run of ordered(r)) run.fulls.push(await run.proxier.sync(true));
  for (const run of runs) run.rules = ruleCount(run.mode, run.lab.nodeNs);
  loads.push(loadavg()[0]!);

  // 3. One endpoint change at a time: an endpoint replaced (same number), then one added or removed.
  const CHANGES = Math.max(ROUNDS * 4, 10);
  const endpointsOf = (i: number) =>
    Array.from({ length: ENDPOINTS }, (_, j) => ({ ip: endpointIP(i, j), nodeName: 'node-1' }));
  for (let r = 0; r < CHANGES; r++) {
    const i = (r * 37) % SERVICES;
    const eps = endpointsOf(i);
    eps[0] = { ip: `10.97.${r % 250}.${(i % 250) + 2}`, nodeName: 'node-1' };
    for (const run of ordered(r)) {
      run.proxier.setEndpointSlice(slice(`svc-${i}`, [{ name: 'http', port: 8080 }], eps));
      run.partials.push(await run.proxier.sync());
    }
  }
  for (let r = 0; r < CHANGES; r++) {
    // Even rounds add an endpoint to a Service, odd ones take it away again.
    const i = (Math.floor(r / 2) * 53 + 11) % SERVICES;
    const eps = endpointsOf(i);
    if (r % 2 === 0) eps.push({ ip: `10.97.250.${(i % 250) + 2}`, nodeName: 'node-1' });
    for (const run of ordered(r)) {
      run.proxier.setEndpointSlice(slice(`svc-${i}`, [{ name: 'http', port: 8080 }], eps));
      run.resizes.push(await run.proxier.sync());
    }
  }
  // What entering the namespace costs each restore / nft run (a node's kube-proxy does not).
  for (let r = 0; r < CHANGES; r++) {
    for (const run of ordered(r)) {
      const t0 = performance.now();
      await runCommand(inNetns(run.lab.nodeNs, ['true']));
      run.netnsExec.push(performance.now() - t0);
    }
  }
  loads.push(loadavg()[0]!);

  // 4. Connections/s: pod → ClusterIP vs pod → pod IP.
  const loadBlock = (run: ModeRun, pairs: number) => {
    const server = run.lab.pods[0]!;
    const out = execFileSync(
      'ip',
      [
        'netns',
        'exec',
        run.lab.pods[1]!.netns,
        process.execPath,
        join(import.meta.dirname, 'load.ts'),
        '--target',
        `direct=${server.ip}:${DIRECT_PORT}`,
        '--target',
        `cluster=${BENCH_IP}:80`,
        '--slice-ms',
        String(CONN_MS),
        '--pairs',
        String(pairs),
        '--concurrency',
        String(CONCURRENCY),
        '--warmup-ms',
        String(Math.min(CONN_MS, 500)),
      ],
      { encoding: 'utf8' },
    );
    const { slices } = JSON.parse(out) as {
      slices: {
        target: 'direct' | 'cluster';
        round: number;
        conns: number;
        errors: number;
        ms: number;
        slow: number;
      }[];
    };
    const errors = slices.reduce((n, x) => n + x.errors, 0);
    if (errors > 0) console.error(`  ${run.mode}: ${errors} failed connections`);
    for (let r = 0; r < pairs; r++) {
      const d = slices.find((x) => x.round === r && x.target === 'direct')!;
      const c = slices.find((x) => x.round === r && x.target === 'cluster')!;
      run.direct.push((d.conns / d.ms) * 1000);
      run.viaCluster.push((c.conns / c.ms) * 1000);
      run.ratios.push(c.conns / c.ms / (d.conns / d.ms));
      run.slow.direct += d.slow;
      run.slow.cluster += c.slow;
    }
  };
  /** Kernel counters that show artefacts: SYN retransmits, TIME_WAIT trouble, conntrack clashes. */
  const counters = (run: ModeRun): Record<string, number> => {
    const nstat = (netns: string, names: string[]) => {
      // Absolute counters (-a), no history file read or written (-s): deltas are taken here.
      const out = execFileSync('ip', ['netns', 'exec', netns, 'nstat', '-azs', '--json', ...names], {
        encoding: 'utf8',
      });
      return Object.values(JSON.parse(out) as Record<string, Record<string, number>>)[0] ?? {};
    };
    const client = nstat(run.lab.pods[1]!.netns, ['TcpExtTCPSynRetrans', 'TcpRetransSegs']);
    const server = nstat(run.lab.pods[0]!.netns, [
      'TcpExtPAWSTimewait',
      'TcpExtTCPTimeWaitOverflow',
      'TcpExtTW',
      'TcpPassiveOpens',
    ]);
    const ct = execFileSync('ip', ['netns', 'exec', run.lab.nodeNs, 'conntrack', '-S'], { encoding: 'utf8' });
    const sum = (k: string) =>
      [...ct.matchAll(new RegExp(`\\b${k}=(\\d+)`, 'g'))].reduce((n, m) => n + Number(m[1]), 0);
    return {
      'SYNs retransmitted (client)': client.TcpExtTCPSynRetrans ?? 0,
      'PAWS rejects in TIME_WAIT (server)': server.TcpExtPAWSTimewait ?? 0,
      'TIME_WAIT overflows (server)': server.TcpExtTCPTimeWaitOverflow ?? 0,
      'connections accepted (server)': server.TcpPassiveOpens ?? 0,
      'conntrack insert_failed (node)': sum('insert_failed'),
      'conntrack drop (node)': sum('drop'),
    };
  };
  for (const run of runs) {
    await run.lab.serve(run.lab.pods[0]!.netns, [DIRECT_PORT, SERVICE_TARGET_PORT], 'pong');
    run.counters = counters(run);
  }
  for (let done = 0, b = 0; done < PAIRS; done += BLOCK, b++) {
    for (const run of ordered(b)) loadBlock(run, Math.min(BLOCK, PAIRS - done));
    loads.push(loadavg()[0]!);
  }
  for (const run of runs) {
    const after = counters(run);
    for (const k of Object.keys(after)) run.counters[k] = after[k]! - run.counters[k]!;
  }
  loads.push(loadavg()[0]!);

  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const med = (rs: SyncResult[], f: (r: SyncResult) => number) => fmt(median(rs.map(f)));
  const rows: [string, (r: ModeRun) => string, string][] = [
    ['first full sync (empty tables), ms', (r) => med(r.first, (x) => x.totalMs), 'target ≤ 1,000'],
    ['… of which generating, ms', (r) => med(r.first, (x) => x.generateMs), ''],
    ['… of which iptables-restore / nft, ms', (r) => med(r.first, (x) => x.restoreMs), ''],
    ['full sync (rules present), ms', (r) => med(r.fulls, (x) => x.totalMs), 'kube-proxy does this hourly'],
    ['… of which iptables-restore / nft, ms', (r) => med(r.fulls, (x) => x.restoreMs), ''],
    ['one endpoint change applied, ms', (r) => med(r.partials, (x) => x.totalMs), 'target ≤ 100'],
    ['… of which iptables-restore / nft, ms', (r) => med(r.partials, (x) => x.restoreMs), ''],
    [
      '… input, bytes',
      (r) => med(r.partials, (x) => x.inputBytes),
      `${runs.map((r) => `${r.mode}: chains written ${r.partials[1]!.chainsWritten}, deleted ${r.partials[1]!.chainsDeleted}`).join('; ')}`,
    ],
    ['one endpoint added or removed, ms', (r) => med(r.resizes, (x) => x.totalMs), 'target ≤ 100'],
    ['… of which iptables-restore / nft, ms', (r) => med(r.resizes, (x) => x.restoreMs), ''],
    [
      '… input, bytes',
      (r) => med(r.resizes, (x) => x.inputBytes),
      `${runs.map((r) => `${r.mode}: chains written ${r.resizes[0]!.chainsWritten}, deleted ${r.resizes[0]!.chainsDeleted}`).join('; ')}`,
    ],
    [
      '`ip netns exec … true` alone, ms',
      (r) => fmt(median(r.netnsExec)),
      'in every restore / nft figure above; not on a real node',
    ],
    [
      'connections/s pod → pod IP',
      (r) => `${fmt(median(r.direct))} (${fmt(quantile(r.direct, 0.25))}–${fmt(quantile(r.direct, 0.75))})`,
      `median (quartiles); ${CONCURRENCY} concurrent, ${PAIRS} pairs of ${CONN_MS} ms slices, ${BLOCK} pairs per load process`,
    ],
    [
      'connections/s pod → ClusterIP',
      (r) =>
        `${fmt(median(r.viaCluster))} (${fmt(quantile(r.viaCluster, 0.25))}–${fmt(quantile(r.viaCluster, 0.75))})`,
      '',
    ],
    ['ClusterIP ÷ pod IP (median of pairs)', (r) => `${pct(median(r.ratios))}`, 'target ≥ 90%'],
    [
      '… 95% interval of that median (bootstrap)',
      (r) => bootstrapMedian(r.ratios).map(pct).join('–'),
      'the target is shown if the interval’s low end is ≥ 90%',
    ],
    [
      '… quartiles of the pair ratios',
      (r) => `${pct(quantile(r.ratios, 0.25))}–${pct(quantile(r.ratios, 0.75))}`,
      '',
    ],
    [
      '… all ClusterIP ÷ all direct connections',
      (r) => pct(r.viaCluster.reduce((a, b) => a + b, 0) / r.direct.reduce((a, b) => a + b, 0)),
      '',
    ],
    [
      'connections over 900 ms, direct / ClusterIP',
      (r) => `${r.slow.direct} / ${r.slow.cluster}`,
      'a retransmitted SYN waits 1 s',
    ],
    ...Object.keys(runs[0]?.counters ?? {}).map((k): [string, (r: ModeRun) => string, string] => [
      k,
      (r) => fmt(r.counters[k] ?? 0),
      'during the connection runs',
    ]),
  ];
  console.log(
    `\nkube-proxy: ${SERVICES} Services × ${ENDPOINTS} endpoints; ${cpus().length} CPUs; node ${process.version}; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (median ${median(loads).toFixed(1)}) during the run`,
  );
  for (const r of runs) console.log(`  ${r.mode}: ${r.rules}`);
  console.log(
    `medians of ${ROUNDS} rounds (endpoint changes: ${runs[0]!.partials.length} of each kind), modes alternating\n`,
  );
  console.log(`| measure (median) | ${runs.map((r) => r.mode).join(' | ')} | notes |`);
  console.log(`|---|${runs.map(() => '---:').join('|')}|---|`);
  for (const [name, f, note] of rows) console.log(`| ${name} | ${runs.map(f).join(' | ')} | ${note} |`);
  console.log(
    `\nrun: node bench/proxy/run.ts --modes ${MODES.join(',')} --services ${SERVICES} --endpoints ${ENDPOINTS} --rounds ${ROUNDS} --pairs ${PAIRS} --conn-ms ${CONN_MS} --block ${BLOCK} --concurrency ${CONCURRENCY}`,
  );
  for (const r of runs) {
    console.log(
      `raw ${r.mode}: first ${JSON.stringify(r.first.map((x) => x.totalMs))} full ${JSON.stringify(r.fulls.map((x) => x.totalMs))} partial ${JSON.stringify(r.partials.map((x) => x.totalMs))} resize ${JSON.stringify(r.resizes.map((x) => x.totalMs))} direct ${JSON.stringify(r.direct.map(Math.round))} cluster ${JSON.stringify(r.viaCluster.map(Math.round))}`,
    );
  }
} finally {
  await cleanup().catch(() => {});
}
