/**
 * Scale check: one SimCluster registers 5,000 nodes against a real API server (the test server, in
 * a process of its own so the simulator's CPU is measured apart) and keeps every Lease fresh through
 * 30 s of simulated time. Prints the figures; asserts only correctness (timing targets live in
 * bench/). SKIFF_SIM_SCALE_NODES changes the node count.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LEASES } from '../client/resources.ts';
import { HttpRestClient } from '../client/rest.ts';
import { FakeClock } from '../util/clock.ts';
import { SimCluster } from './cluster.ts';
import type { Lease } from './types.ts';

const NODES = Number(process.env.SKIFF_SIM_SCALE_NODES ?? 5_000);
const SECONDS = 30;

let child: ChildProcess;
let client: HttpRestClient;
const ac = new AbortController();

before(async () => {
  child = spawn(process.execPath, [fileURLToPath(new URL('./testserver.ts', import.meta.url))], {
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  client = new HttpRestClient(
    (JSON.parse(first) as { config: ConstructorParameters<typeof HttpRestClient>[0] }).config,
  );
});

after(async () => {
  ac.abort();
  client.close();
  child.stdin?.end();
  if (child.exitCode === null) await once(child, 'exit');
});

async function serverCpuMs(): Promise<number> {
  child.send('cpu');
  const [m] = (await once(child, 'message')) as [{ cpuMs: number }];
  return m.cpuMs;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return Math.round((u.user + u.system) / 1000);
}

describe(`SimCluster at scale (${NODES} nodes)`, () => {
  it(`registers ${NODES} nodes and keeps their leases fresh for ${SECONDS} s of simulated time`, async () => {
    const clock = new FakeClock();
    const sim = new SimCluster({ client, clock, nodes: NODES, maxInFlight: 64 });

    let t = performance.now();
    let cpu = process.cpuUsage();
    let server0 = await serverCpuMs();
    await sim.start(ac.signal);
    const register = {
      wallMs: Math.round(performance.now() - t),
      simCpuMs: cpuMs(cpu),
      serverCpuMs: (await serverCpuMs()) - server0,
    };
    assert.equal(sim.stats().registered, NODES);

    t = performance.now();
    cpu = process.cpuUsage();
    server0 = await serverCpuMs();
    // A second at a time: each step hands the simulator a second's work and waits until it is done.
    for (let ms = 0; ms < SECONDS * 1000; ms += 1000) {
      clock.advance(1000);
      await sim.idle();
    }
    const keepAlive = {
      wallMs: Math.round(performance.now() - t),
      simCpuMs: cpuMs(cpu),
      serverCpuMs: (await serverCpuMs()) - server0,
    };
    const stats = sim.stats();

    const leases: Lease[] = [];
    let cont: string | undefined;
    do {
      const page = await client.list<Lease>(LEASES, 'kube-node-lease', { limit: 1000, continue: cont });
      leases.push(...page.items);
      cont = page.continue;
    } while (cont);
    const now = clock.now();
    const oldest = Math.max(...leases.map((l) => now - Date.parse(l.spec?.renewTime ?? '')));

    const writes = stats.leaseRenewals + stats.statusUpdates;
    process.stdout.write(
      `# sim scale: ${NODES} nodes. register: ${register.wallMs} ms wall, simulator ${register.simCpuMs} ms CPU, ` +
        `server ${register.serverCpuMs} ms CPU. ${SECONDS} s simulated: ${stats.leaseRenewals} lease renewals + ` +
        `${stats.statusUpdates} status updates in ${keepAlive.wallMs} ms wall, simulator ${keepAlive.simCpuMs} ms CPU ` +
        `(${((keepAlive.simCpuMs / (SECONDS * 1000)) * 100).toFixed(1)}% of one core in real time, ` +
        `${((keepAlive.simCpuMs * 1000) / writes).toFixed(0)} µs a write), server ${keepAlive.serverCpuMs} ms CPU; ` +
        `oldest lease ${oldest} ms; skipped ${stats.leaseRenewalsSkipped}; errors ${stats.errors}; ` +
        `simulator heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB\n`,
    );
    assert.equal(leases.length, NODES);
    assert.ok(oldest <= 10_000, `every lease renewed within the last 10 s (oldest ${oldest} ms)`);
    assert.equal(stats.leaseRenewals, NODES * (SECONDS / 10));
    assert.equal(stats.errors, 0);
  });
});
