/**
 * The DNS benchmark's load generator, run as a child process (its own core): S connected UDP
 * sockets, each keeping W queries in flight (a reply sends the next one), cycling over prebuilt
 * queries. A socket that hears nothing for 250 ms counts its in-flight queries as lost and refills.
 *
 * Input (argv[2], JSON): { port, queries: [[name, type]], sockets, window, warmupMs, durationMs }.
 * Output (IPC message): { received, lost, rcodes, elapsedMs, cpuMs } over the measured window.
 */
import dgram from 'node:dgram';
import { encodeQuery } from '../../src/dns/testing.ts';

interface Config {
  port: number;
  queries: [string, string][];
  sockets: number;
  window: number;
  warmupMs: number;
  durationMs: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const bufs = cfg.queries.map(([name, type], i) => encodeQuery(name, type, { id: i & 0xffff }));
let received = 0;
let lost = 0;
const rcodes = new Array<number>(16).fill(0);
let running = true;

interface Client {
  sock: dgram.Socket;
  inflight: number;
  next: number;
  seen: number;
}

const clients: Client[] = [];
function fill(c: Client): void {
  while (running && c.inflight < cfg.window) {
    c.sock.send(bufs[c.next++ % bufs.length]!);
    c.inflight++;
  }
}

for (let i = 0; i < cfg.sockets; i++) {
  const sock = dgram.createSocket('udp4');
  const c: Client = { sock, inflight: 0, next: Math.floor((i * bufs.length) / cfg.sockets), seen: 0 };
  sock.on('message', (m) => {
    received++;
    rcodes[m[3]! & 15]!++;
    c.inflight--;
    c.seen++;
    if (running) {
      c.sock.send(bufs[c.next++ % bufs.length]!);
      c.inflight++;
    }
  });
  await new Promise<void>((r) => sock.connect(cfg.port, '127.0.0.1', () => r()));
  clients.push(c);
}

let lastSeen = clients.map(() => 0);
const watchdog = setInterval(() => {
  clients.forEach((c, i) => {
    if (c.seen === lastSeen[i] && c.inflight > 0) {
      lost += c.inflight;
      c.inflight = 0;
      fill(c);
    }
  });
  lastSeen = clients.map((c) => c.seen);
}, 250);

for (const c of clients) fill(c);
await new Promise((r) => setTimeout(r, cfg.warmupMs));
const r0 = received;
const l0 = lost;
const rc0 = [...rcodes];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, cfg.durationMs));
const elapsedMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const result = {
  received: received - r0,
  lost: lost - l0,
  rcodes: rcodes.map((n, i) => n - rc0[i]!),
  elapsedMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
};
running = false;
clearInterval(watchdog);
for (const c of clients) c.sock.close();
process.send?.(result);
