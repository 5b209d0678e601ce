/**
 * Connection load generator, run inside a pod's network namespace by bench/proxy/run.ts:
 *
 *   node load.ts --target direct=10.99.0.10:8080 --target cluster=10.43.250.2:80 \
 *     --slice-ms 500 --pairs 20 --concurrency 16 --warmup-ms 1000
 *
 * One long-lived process measures every target, so Node start-up and JIT warm-up never fall inside
 * a timed window. It runs `--pairs` rounds; each round runs one slice per target back to back, the
 * order alternating from round to round (ABBA…, so a drift in the machine's load does not favour
 * either target). A slice keeps `--concurrency` connections in flight for `--slice-ms`: each opens
 * a TCP connection and reads the server's reply until the server closes it. Only connections
 * completed inside the slice's own window count; the ones still in flight at its end are drained
 * before the next slice starts (not timed, not counted). Before the first round each target gets
 * `--warmup-ms` of untimed load.
 *
 * Prints one JSON object: `{"slices":[{"target","round","conns","errors","ms","slow","p50","p99"}…]}`
 * where `ms` is the slice's measured window, `slow` the connections that took over 900 ms (a
 * retransmitted SYN: the first retransmission is after 1 s), drained ones included, p50/p99 connection latency in ms.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true, default: [] },
    'slice-ms': { type: 'string', default: '500' },
    pairs: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    'warmup-ms': { type: 'string', default: '1000' },
  },
});

interface Target {
  name: string;
  host: string;
  port: number;
}
const targets: Target[] = values.target.map((t) => {
  const m = /^([^=]+)=(.+):(\d+)$/.exec(t);
  if (!m) throw new Error(`bad --target ${t} (want name=host:port)`);
  return { name: m[1]!, host: m[2]!, port: Number(m[3]) };
});
if (targets.length === 0) throw new Error('no --target');
const SLICE_MS = Number(values['slice-ms']);
const ROUNDS = Number(values.pairs);
const CONCURRENCY = Number(values.concurrency);
const WARMUP_MS = Number(values['warmup-ms']);

/** One connection: resolves with its latency in ms, or -1 if it failed. */
function once(t: Target): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = connect({ host: t.host, port: t.port });
    let got = false;
    s.on('data', () => {
      got = true;
    });
    s.on('end', () => resolve(got ? performance.now() - t0 : -1));
    s.on('error', () => resolve(-1));
  });
}

interface Slice {
  target: string;
  round: number;
  conns: number;
  errors: number;
  ms: number;
  slow: number;
  p50: number;
  p99: number;
}

async function slice(t: Target, ms: number): Promise<Omit<Slice, 'target' | 'round'>> {
  const start = performance.now();
  const end = start + ms;
  const lat: number[] = [];
  let errors = 0;
  let slow = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const l = await once(t);
      if (l > 900) slow++;
      // Count what completed inside the window only.
      if (performance.now() > end) break;
      if (l < 0) errors++;
      else lat.push(l);
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  // The window is [start, end]; what is still in flight at the end is drained, not counted.
  await Promise.all(workers);
  lat.sort((a, b) => a - b);
  const q = (p: number) =>
    lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 100) / 100 : 0;
  return {
    conns: lat.length,
    errors,
    ms,
    slow,
    p50: q(0.5),
    p99: q(0.99),
  };
}

for (const t of targets) await slice(t, WARMUP_MS);
const slices: Slice[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...targets].reverse() : targets;
  for (const t of order) slices.push({ target: t.name, round: r, ...(await slice(t, SLICE_MS)) });
}
process.stdout.write(`${JSON.stringify({ slices })}\n`);
