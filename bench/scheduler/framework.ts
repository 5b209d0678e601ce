/**
 * In-process scheduler microbenchmark: no API server, no informers. Builds the scheduler cache, a
 * snapshot and a Framework with the default profile (the real in-tree plugins) over N nodes shaped
 * like bench/scheduler/run.ts's (4 cpu, 32Gi, 110 pods, zone-0..9, half of them
 * bench.skiff.io/half=yes), then schedules P pods per kind through the calls Scheduler.scheduleOne
 * makes: update the snapshot, Algorithm.schedulePod, assume the pod in the cache, Reserve, Permit.
 * Binding is not done; with --confirm-lag L > 0 each pod is confirmed L pods later (cache.addPod of
 * a new bound pod object), as the informer would after the bind.
 *
 *   node_modules/.bin/node bench/scheduler/framework.ts [--nodes 5000] [--kinds basic,anti] …
 *   npm run bench:scheduler-framework -- --pods 2000
 *
 * pods/s and µs/pod are wall-clock over the scheduling loop (cluster setup excluded); CPU µs/pod is
 * the process's CPU time (all threads, GC included) over the same loop.
 *
 * Randomness (tie-breaks) comes from a seeded generator, so for a given seed and arguments the
 * placements are deterministic: the checksum (sha256 of the chosen node names, in order) must stay
 * the same across optimizations that keep the decisions.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SchedulerCache } from '../../src/scheduler/cache.ts';
import { CycleState } from '../../src/scheduler/framework/cycle_state.ts';
import { Framework } from '../../src/scheduler/framework/runtime.ts';
import { Snapshot } from '../../src/scheduler/framework/snapshot.ts';
import { isSuccess } from '../../src/scheduler/framework/status.ts';
import { Nominator } from '../../src/scheduler/nominator.ts';
import { defaultProfile, IN_TREE_REGISTRY } from '../../src/scheduler/plugins/registry.ts';
import { Algorithm } from '../../src/scheduler/schedule_one.ts';
import { FakeCluster, seeded } from '../../src/scheduler/testing.ts';
import type { Node, Pod } from '../../src/scheduler/types.ts';
import { FakeClock } from '../../src/util/clock.ts';
import { silentLogger } from '../../src/util/log.ts';
import { benchNode, benchPodSpec, type PodKind } from './objects.ts';

const USAGE = `usage: node bench/scheduler/framework.ts [options]
  --nodes N          nodes (default 5000)
  --pods N           pods per kind for basic, affinity and spread (default 2000)
  --anti-pods N      pods for anti (default 1000)
  --zones N          zones (default 10)
  --kinds LIST       basic,affinity,anti,spread (default all)
  --seed N           seed of the tie-break randomness (default 1)
  --confirm-lag N    confirm each assumed pod N pods later, as the informer would (default 100; 0: never)
  --repeat N         run every kind N times (fresh cluster each time; default 1)`;

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '2000' },
    'anti-pods': { type: 'string', default: '1000' },
    zones: { type: 'string', default: '10' },
    kinds: { type: 'string', default: 'basic,affinity,anti,spread' },
    seed: { type: 'string', default: '1' },
    'confirm-lag': { type: 'string', default: '100' },
    repeat: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function int(s: string | undefined, name: string, min = 1): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

const NODES = int(args.nodes, 'nodes');
const PODS = int(args.pods, 'pods');
const ANTI_PODS = int(args['anti-pods'], 'anti-pods');
const ZONES = int(args.zones, 'zones');
const SEED = int(args.seed, 'seed', 0);
const CONFIRM_LAG = int(args['confirm-lag'], 'confirm-lag', 0);
const REPEAT = int(args.repeat, 'repeat');
type Kind = PodKind;
const KINDS = args.kinds.split(',').map((s) => s.trim()) as Kind[];
for (const k of KINDS) {
  if (!['basic', 'affinity', 'anti', 'spread'].includes(k)) throw new Error(`--kinds: unknown kind ${k}`);
}

const NS = 'sched-bench';
const NOW = Date.UTC(2026, 0, 1);

function nodeObject(i: number): Node {
  return benchNode(i, ZONES, NOW);
}

function podObject(kind: Kind, i: number): Pod {
  const { labels, spec } = benchPodSpec(kind);
  // No API server defaults it here.
  spec.schedulerName = 'default-scheduler';
  const name = `${kind}-${i}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels,
      resourceVersion: String(i + 1),
      creationTimestamp: new Date(NOW).toISOString(),
    },
    spec,
    status: { phase: 'Pending' },
  };
}

interface Result {
  kind: Kind;
  pods: number;
  scheduled: number;
  ms: number;
  /** Process CPU time (user + system, all threads), ms. */
  cpuMs: number;
  checksum: string;
}

function runKind(kind: Kind, pods: number): Result {
  const clock = new FakeClock(NOW);
  const cluster = new FakeCluster();
  const cache = new SchedulerCache({ clock, logger: silentLogger });
  for (let i = 0; i < NODES; i++) cache.addNode(nodeObject(i));
  const nominator = new Nominator();
  const random = seeded(SEED);
  const fw = new Framework({
    profile: defaultProfile(),
    registry: IN_TREE_REGISTRY,
    client: cluster.client,
    clock,
    logger: silentLogger,
    nominator,
    podLister: cluster.pods.lister(),
    namespaceLister: cluster.namespaces.lister(),
    pdbLister: undefined,
    random,
  });
  const algorithm = new Algorithm(0, random);
  const snapshot = new Snapshot();
  const input = Array.from({ length: pods }, (_, i) => podObject(kind, i));
  const hash = createHash('sha256');
  const toConfirm: Pod[] = [];
  let scheduled = 0;
  const confirm = (assumed: Pod) => {
    cache.addPod({
      ...assumed,
      metadata: { ...assumed.metadata, resourceVersion: `${assumed.metadata.resourceVersion}-bound` },
      status: { ...assumed.status, conditions: [{ type: 'PodScheduled', status: 'True' }] },
    });
  };

  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const pod of input) {
    cache.updateSnapshot(snapshot);
    fw.setSnapshot(snapshot);
    const state = new CycleState();
    let host: string;
    try {
      host = algorithm.schedulePod(fw, state, pod, snapshot).suggestedHost;
    } catch (err) {
      // The FitError message (per-reason node counts) is part of the decision.
      hash.update(`!${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
      continue;
    }
    const assumed: Pod = { ...pod, spec: { ...pod.spec, nodeName: host } };
    cache.assumePod(assumed);
    nominator.deleteNominatedPodIfExists(pod);
    const reserved = fw.runReservePluginsReserve(state, assumed, host);
    const permit = fw.runPermitPlugins(state, assumed, host);
    if (!isSuccess(reserved) || !isSuccess(permit)) throw new Error(`pod ${pod.metadata.name} not permitted`);
    cache.finishBinding(assumed);
    hash.update(`${host}\n`);
    scheduled++;
    if (CONFIRM_LAG > 0) {
      toConfirm.push(assumed);
      if (toConfirm.length > CONFIRM_LAG) confirm(toConfirm.shift()!);
    }
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  return { kind, pods, scheduled, ms, cpuMs, checksum: hash.digest('hex').slice(0, 16) };
}

const la = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
process.stdout.write(
  `# scheduler framework microbench\nargv: ${process.argv.slice(2).join(' ') || '(defaults)'}\n` +
    `node ${process.version}, nodes ${NODES}, zones ${ZONES}, seed ${SEED}, confirm-lag ${CONFIRM_LAG}, load average (start) ${la}\n\n` +
    `| kind | pods | scheduled | pods/s | µs/pod | CPU µs/pod | checksum |\n| --- | --- | --- | --- | --- | --- | --- |\n`,
);
const results = new Map<Kind, Result[]>();
for (let r = 0; r < REPEAT; r++) {
  for (const kind of KINDS) {
    const res = runKind(kind, kind === 'anti' ? ANTI_PODS : PODS);
    results.set(kind, [...(results.get(kind) ?? []), res]);
    const perSec = (res.scheduled / res.ms) * 1000;
    const us = (res.ms * 1000) / res.pods;
    const cpuUs = (res.cpuMs * 1000) / res.pods;
    process.stdout.write(
      `| ${res.kind} | ${res.pods} | ${res.scheduled} | ${Math.round(perSec)} | ${Math.round(us)} | ${Math.round(cpuUs)} | ${res.checksum} |\n`,
    );
  }
}
if (REPEAT > 1) {
  const median = (xs: number[]) => {
    const v = [...xs].sort((x, y) => x - y);
    const m = v.length >> 1;
    return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
  };
  process.stdout.write(
    `\nmedian of ${REPEAT}:\n\n| kind | pods/s | µs/pod | CPU µs/pod | min µs/pod | checksums equal |\n| --- | --- | --- | --- | --- | --- |\n`,
  );
  for (const [kind, rs] of results) {
    const us = rs.map((r) => (r.ms * 1000) / r.pods);
    const cpu = rs.map((r) => (r.cpuMs * 1000) / r.pods);
    const perSec = rs.map((r) => (r.scheduled / r.ms) * 1000);
    const same = rs.every((r) => r.checksum === rs[0]!.checksum);
    process.stdout.write(
      `| ${kind} | ${Math.round(median(perSec))} | ${Math.round(median(us))} | ${Math.round(median(cpu))} | ${Math.round(Math.min(...us))} | ${same ? 'yes' : '**no**'} |\n`,
    );
  }
}
process.stdout.write(
  `\nload average (end) ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
