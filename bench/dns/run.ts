/**
 * Cluster DNS benchmark: queries/s a {@link DnsServer} answers over UDP on 127.0.0.1.
 *
 *   node_modules/.bin/node bench/dns/run.ts [--services 1000] [--runs 5] [--duration 3] …
 *
 * The server runs in this process with its records fed the way its informers feed them (N
 * ClusterIP Services, N/10 headless Services with 3 endpoints each); a fake upstream on 127.0.0.1
 * answers external names (TTL 300). The load comes from a child process (bench/dns/load.ts, its own
 * core): S connected UDP sockets with W queries each in flight. Every scenario is run R times for D
 * seconds after a warm-up; the table gives the median, min and max queries/s, the CPU the server
 * and the client used (a server at ~100% is the bottleneck; below that, the client or other load on
 * the machine is), and queries/s per server core (q/s ÷ server CPU share: its capacity on a core of
 * its own, the figure that stays comparable when the machine is shared).
 *
 * Scenarios:
 * - cluster: A for `svc-i.bench.svc.cluster.local`, cycling over every Service (answer cache on)
 * - cluster-uncached: the same with the encoded-answer cache off (full decode, lookup, encode)
 * - headless+srv: A and SRV for the headless Services (answer cache on)
 * - search-nxdomain: what ndots:5 makes pods ask first (`api.github.com.bench.svc.cluster.local`,
 *   ...): NXDOMAIN with SOA
 * - external-cached: A for 100 external names, answered from the forward cache after the first ask
 *
 * Targets are printed, never asserted: >= 20,000 cluster queries/s.
 */
import { fork } from 'node:child_process';
import { cpus, loadavg, release } from 'node:os';
import { parseArgs } from 'node:util';
import { ns, slice, svc } from '../../src/dns/fixtures.ts';
import { ClusterRecords } from '../../src/dns/records.ts';
import { DnsServer } from '../../src/dns/server.ts';
import { startFakeUpstream } from '../../src/dns/testing.ts';

const USAGE = `usage: node bench/dns/run.ts [options]
  --services N     ClusterIP Services (default 1000; N/10 headless ones too)
  --runs R         runs per scenario (default 5)
  --duration S     measured seconds per run (default 3)
  --warmup MS      warm-up per run before measuring (default 500)
  --sockets S      client UDP sockets (default 8)
  --window W       queries in flight per socket (default 16)
  --scenarios LIST cluster,cluster-uncached,headless+srv,search-nxdomain,external-cached (default all)`;

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '500' },
    sockets: { type: 'string', default: '8' },
    window: { type: 'string', default: '16' },
    scenarios: {
      type: 'string',
      default: 'cluster,cluster-uncached,headless+srv,search-nxdomain,external-cached',
    },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const N = Number(args.services);
const RUNS = Number(args.runs);
const DURATION_MS = Number(args.duration) * 1000;
const WARMUP_MS = Number(args.warmup);
const SOCKETS = Number(args.sockets);
const WINDOW = Number(args.window);

function records(): ClusterRecords {
  const r = new ClusterRecords();
  r.upsertNamespace(ns('bench'));
  for (let i = 0; i < N; i++) {
    r.upsertService(
      svc('bench', `svc-${i}`, {
        clusterIP: `10.43.${(i >> 8) & 255}.${i & 255}`,
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      }),
    );
  }
  for (let i = 0; i < N / 10; i++) {
    r.upsertService(svc('bench', `hl-${i}`, { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
    const eps = [0, 1, 2].map((k) => ({ ip: `10.42.${k}.${i & 255}`, hostname: `hl-${i}-${k}` }));
    r.upsertSlice(slice('bench', `hl-${i}`, `hl-${i}-x`, eps, [{ name: 'http', port: 8080 }]));
  }
  return r;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const SCENARIOS: Record<string, { queries: [string, string][]; replyCache: boolean; expect: number }> = {
  cluster: {
    queries: range(N).map((i) => [`svc-${i}.bench.svc.cluster.local`, 'A']),
    replyCache: true,
    expect: 0,
  },
  'cluster-uncached': {
    queries: range(N).map((i) => [`svc-${i}.bench.svc.cluster.local`, 'A']),
    replyCache: false,
    expect: 0,
  },
  'headless+srv': {
    queries: range(N / 10).flatMap((i): [string, string][] => [
      [`hl-${i}.bench.svc.cluster.local`, 'A'],
      [`_http._tcp.hl-${i}.bench.svc.cluster.local`, 'SRV'],
    ]),
    replyCache: true,
    expect: 0,
  },
  'search-nxdomain': {
    queries: range(100).flatMap((i): [string, string][] => [
      [`api${i}.example.com.bench.svc.cluster.local`, 'A'],
      [`api${i}.example.com.svc.cluster.local`, 'A'],
      [`api${i}.example.com.cluster.local`, 'A'],
    ]),
    replyCache: true,
    expect: 3,
  },
  'external-cached': {
    queries: range(100).map((i) => [`host${i}.example.com`, 'A']),
    replyCache: true,
    expect: 0,
  },
};

interface LoadResult {
  received: number;
  lost: number;
  rcodes: number[];
  elapsedMs: number;
  cpuMs: number;
}

function load(port: number, queries: [string, string][]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      new URL('./load.ts', import.meta.url).pathname,
      [
        JSON.stringify({
          port,
          queries,
          sockets: SOCKETS,
          window: WINDOW,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
        }),
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const upstream = await startFakeUpstream((name) => ({
  answers: [{ type: 'A', name, ttl: 300, class: 'IN', data: '192.0.2.7' }],
}));
const rows: string[] = [];
for (const name of args.scenarios.split(',')) {
  const sc = SCENARIOS[name];
  if (!sc) throw new Error(`unknown scenario ${name}\n${USAGE}`);
  const server = new DnsServer({
    records: records(),
    address: '127.0.0.1',
    port: 0,
    upstreams: [{ host: '127.0.0.1', port: upstream.port }],
    replyCacheSize: sc.replyCache ? 10_000 : 0,
  });
  await server.start();
  const qps: number[] = [];
  const serverCpu: number[] = [];
  const clientCpu: number[] = [];
  let lost = 0;
  let wrong = 0;
  for (let run = 0; run < RUNS; run++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await load(server.port, sc.queries);
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    qps.push((r.received / r.elapsedMs) * 1000);
    // The server's CPU over the whole run (warm-up included), as a share of one core.
    serverCpu.push(((cpu.user + cpu.system) / 1000 / wall) * 100);
    clientCpu.push((r.cpuMs / r.elapsedMs) * 100);
    lost += r.lost;
    wrong += r.received - (r.rcodes[sc.expect] ?? 0);
    process.stderr.write(`${name} run ${run + 1}/${RUNS}: ${fmt(qps.at(-1)!)} q/s\n`);
  }
  await server.stop();
  rows.push(
    `| ${name} | ${sc.queries.length} | **${fmt(median(qps))}** | ${fmt(Math.min(...qps))} | ${fmt(Math.max(...qps))} | ${Math.round(median(serverCpu))}% | ${fmt(median(qps.map((q, i) => q / (serverCpu[i]! / 100))))} | ${Math.round(median(clientCpu))}% | ${lost} | ${wrong} |`,
  );
}
await upstream.close();

console.log(`## Cluster DNS queries/s (UDP, 127.0.0.1)

Command: \`node_modules/.bin/node bench/dns/run.ts --services ${N} --runs ${RUNS} --duration ${DURATION_MS / 1000} --sockets ${SOCKETS} --window ${WINDOW}\`
Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}, load ${loadavg()
  .map((l) => l.toFixed(2))
  .join(' ')} at the end.
Server in the bench process; load from one child process (${SOCKETS} UDP sockets × ${WINDOW} in flight). Median of ${RUNS} runs of ${DURATION_MS / 1000} s; target ≥ 20,000 queries/s.

| scenario | distinct names | median q/s | min | max | server CPU | q/s per server core | client CPU | lost | wrong rcode |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}`);
