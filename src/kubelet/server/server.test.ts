/**
 * KubeletServer against a fake runtime whose streaming server speaks remotecommand v4 over SPDY (as
 * containerd's does), with `ws` and raw SPDY clients presenting client certificates.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { ensurePki, type Pki } from '../../apiserver/auth/pki.ts';
import type { RunningPodInfo } from '../contracts.ts';
import type { ContainerStatus, RuntimeService, StreamingRequest } from '../cri/types.ts';
import { formatCriLine } from './logs/cri-log.ts';
import { KubeletServer } from './server.ts';
import { SpdySession, type SpdyStream } from './spdy/session.ts';

const dir = mkdtempSync(join(tmpdir(), 'skiff-kubelet-server-'));
let pki: Pki;
let kubelet: KubeletServer;
let upstream: Server;
let upstreamPort = 0;
const requests: StreamingRequest[] = [];
/** What the fake runtime's exec did: streams seen, stdin received, resize messages. */
const seen: { types: string[]; stdin: string; stdinEnded: boolean; resize: string }[] = [];

const logDirectory = join(dir, 'pods', 'default_p_uid1');
const states = new Map<string, ContainerStatus['state']>([
  ['c-main', 'CONTAINER_RUNNING'],
  ['c-new', 'CONTAINER_CREATED'],
]);

function readAll(s: Duplex): Promise<string> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => s.once('end', () => resolve(Buffer.concat(chunks).toString())));
}

/** containerd's streaming server, reduced: remotecommand v4 over SPDY, and an echo port-forward. */
function fakeStreamingServer(): Server {
  const srv = createServer((_req, res) => res.writeHead(404).end('no such session'));
  srv.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const url = req.url ?? '';
    if (url.startsWith('/portforward/')) {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          'X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n',
      );
      socket.pipe(socket); // echo: the relay must be byte-transparent
      return;
    }
    const id = Number(url.split('/')[2]);
    const r = requests[id]!;
    const offered = String(req.headers['x-stream-protocol-version'] ?? '');
    if (!offered.includes('v4.channel.k8s.io')) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
    );
    const session = new SpdySession(socket, { client: false });
    const streams = new Map<string, SpdyStream>();
    const record = { types: [] as string[], stdin: '', stdinEnded: false, resize: '' };
    seen.push(record);
    const expected = 1 + Number(!!r.stdin) + Number(!!r.stdout) + Number(!!r.stderr) + Number(!!r.tty);
    session.on('stream', (s) => {
      const type = s.header('streamType')!;
      record.types.push(type);
      streams.set(type, s);
      void s.reply();
      if (streams.size === expected) void run();
    });
    const run = async () => {
      const cmd = r.cmd ?? [];
      const resize = streams.get('resize');
      resize?.on('data', (c: Buffer) => {
        record.resize += c.toString();
      });
      if (cmd[0] === 'cat') {
        const input = await readAll(streams.get('stdin')!);
        record.stdin = input;
        record.stdinEnded = true;
        streams.get('stdout')!.end(input.toUpperCase());
      } else {
        streams.get('stdout')?.end('out\n');
        streams.get('stderr')?.end('err\n');
      }
      await new Promise((res) => setTimeout(res, 50));
      if (cmd[0] === 'fail') {
        streams.get('error')!.write(
          JSON.stringify({
            metadata: {},
            status: 'Failure',
            message: 'command terminated with non-zero exit code',
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: '3' }] },
          }),
        );
      } else if (cmd[0] !== 'silent') {
        streams.get('error')!.write(JSON.stringify({ metadata: {}, status: 'Success' }));
      }
      // Like the kubelet's streaming server: flush, then close the connection.
      await new Promise((res) => streams.get('error')!.end(res));
      session.destroy();
    };
  });
  return srv;
}

const runtime = {
  async containerStatus(id: string): Promise<ContainerStatus> {
    const state = states.get(id);
    if (!state) throw Object.assign(new Error('not found'), { code: 5 });
    return { id, state, logPath: join(logDirectory, 'main', '1.log') } as ContainerStatus;
  },
  async exec(req: StreamingRequest): Promise<string> {
    requests.push(req);
    return `http://127.0.0.1:${upstreamPort}/exec/${requests.length - 1}`;
  },
  async attach(req: StreamingRequest): Promise<string> {
    requests.push(req);
    return `http://127.0.0.1:${upstreamPort}/attach/${requests.length - 1}`;
  },
  async portForward(sandboxId: string): Promise<string> {
    return `http://127.0.0.1:${upstreamPort}/portforward/${sandboxId}`;
  },
} as unknown as RuntimeService;

const pods = {
  find(namespace: string, name: string): RunningPodInfo | undefined {
    if (namespace !== 'default' || name !== 'p') return undefined;
    return {
      uid: 'uid1',
      namespace,
      name,
      sandboxId: 'sb1',
      containers: new Map([
        ['main', 'c-main'],
        ['new', 'c-new'],
      ]),
      logDirectory,
    };
  },
};

before(async () => {
  pki = await ensurePki(dir, {
    hostnames: [],
    ips: [],
    host: { dnsNames: ['localhost'], ips: ['127.0.0.1'] },
  });
  mkdirSync(join(logDirectory, 'main'), { recursive: true });
  const line = (s: number, c: string) =>
    formatCriLine({ timestamp: `2026-01-01T00:00:0${s}Z`, stream: 'stdout', content: c });
  writeFileSync(join(logDirectory, 'main', '0.log'), line(1, 'old instance'));
  writeFileSync(join(logDirectory, 'main', '1.log'), line(2, 'a') + line(3, 'b'));
  upstream = fakeStreamingServer();
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamPort = (upstream.address() as AddressInfo).port;
  kubelet = new KubeletServer({
    cert: pki.serving.cert,
    key: pki.serving.key,
    ca: pki.ca.cert,
    port: 0,
    address: '127.0.0.1',
    pods,
    runtime,
  });
  await kubelet.start();
});

after(async () => {
  await kubelet.stop();
  upstream.close();
  upstream.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string, withCert = true): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: kubelet.port,
        path,
        ca: pki.ca.cert,
        ...(withCert ? { cert: pki.admin.cert, key: pki.admin.key } : {}),
      },
      (res) => {
        void readAll(res as unknown as Duplex).then((body) => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function websocket(path: string, protocols: string[]): Promise<WebSocket> {
  const ws = new WebSocket(`wss://127.0.0.1:${kubelet.port}${path}`, protocols, {
    ca: pki.ca.cert,
    cert: pki.admin.cert,
    key: pki.admin.key,
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** Runs a v5 session to its end: every message as [channel, text], and the close code. */
async function session(ws: WebSocket, send: (ws: WebSocket) => void = () => {}) {
  const messages: [number, string][] = [];
  ws.on('message', (d: Buffer) => messages.push([d[0]!, d.subarray(1).toString()]));
  send(ws);
  const [code] = (await once(ws, 'close')) as [number];
  return { messages, code };
}

test('a client without a certificate from the cluster CA is refused', async () => {
  await assert.rejects(get('/healthz', false));
  assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok' });
});

test('logs: content, previous, and Kubernetes errors', async () => {
  assert.deepEqual(await get('/containerLogs/default/p/main'), { status: 200, body: 'a\nb\n' });
  assert.deepEqual(await get('/containerLogs/default/p/main?tailLines=1&timestamps=true'), {
    status: 200,
    body: '2026-01-01T00:00:03Z b\n',
  });
  assert.deepEqual(await get('/containerLogs/default/p/main?previous=true'), {
    status: 200,
    body: 'old instance\n',
  });
  assert.deepEqual(await get('/containerLogs/default/p/new'), {
    status: 400,
    body: 'container "new" in pod "p" is waiting to start: ContainerCreating',
  });
  assert.deepEqual(await get('/containerLogs/default/p/other'), {
    status: 400,
    body: 'container "other" in pod "p" is waiting to start: ContainerCreating',
  });
  assert.deepEqual(await get('/containerLogs/default/nope/main'), {
    status: 404,
    body: 'pod "nope" does not exist',
  });
  writeFileSync(join(logDirectory, 'main', '0.log.moved'), '');
  rmSync(join(logDirectory, 'main', '0.log'));
  assert.deepEqual(await get('/containerLogs/default/p/main?previous=1'), {
    status: 400,
    body: 'previous terminated container "main" in pod "p" not found',
  });
});

test('exec over websocket v5: output channels, then the v4 status on channel 3, then close 1000', async () => {
  const ws = await websocket('/exec/default/p/main?command=fail&stdout=true&stderr=true', [
    'v5.channel.k8s.io',
  ]);
  assert.equal(ws.protocol, 'v5.channel.k8s.io');
  const { messages, code } = await session(ws);
  assert.equal(code, 1000);
  assert.deepEqual(messages[0], [1, ''], 'an empty message on stdout says the session is up');
  assert.deepEqual(messages.slice(1, 3).sort(), [
    [1, 'out\n'],
    [2, 'err\n'],
  ]);
  const [ch, status] = messages.at(-1)!;
  assert.equal(ch, 3);
  assert.deepEqual(JSON.parse(status).details, { causes: [{ reason: 'ExitCode', message: '3' }] });
  assert.deepEqual(requests.at(-1), {
    containerId: 'c-main',
    cmd: ['fail'],
    tty: false,
    stdin: false,
    stdout: true,
    stderr: true,
  });
  assert.deepEqual(seen.at(-1)!.types, ['error', 'stdout', 'stderr']);
});

test('an empty error stream is Success', async () => {
  const ws = await websocket('/exec/default/p/main?command=silent&stdout=1', ['v5.channel.k8s.io']);
  const { messages } = await session(ws);
  assert.deepEqual(messages.at(-1), [3, JSON.stringify({ metadata: {}, status: 'Success' })]);
});

test('stdin reaches the command, the close signal (255, 0) ends it, resize goes to the resize stream', async () => {
  const ws = await websocket('/exec/default/p/main?command=cat&stdin=true&stdout=true&tty=true', [
    'v5.channel.k8s.io',
  ]);
  const { messages } = await session(ws, (w) => {
    w.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":80,"Height":24}')]));
    w.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello ')]));
    w.send(Buffer.concat([Buffer.from([0]), Buffer.from('world')]));
    w.send(Buffer.from([255, 0]));
  });
  assert.deepEqual(messages.slice(1, -1), [[1, 'HELLO WORLD']]);
  assert.equal(JSON.parse(messages.at(-1)![1]).status, 'Success');
  const rec = seen.at(-1)!;
  assert.deepEqual(rec.types, ['error', 'stdin', 'stdout', 'resize']);
  assert.equal(rec.stdin, 'hello world');
  assert.equal(rec.resize, '{"Width":80,"Height":24}');
  // tty implies no stderr stream (the runtime rejects tty with stderr).
  assert.equal(requests.at(-1)!.stderr, false);
});

test('attach uses CRI Attach', async () => {
  const ws = await websocket('/attach/default/p/main?stdout=true', ['v5.channel.k8s.io']);
  await session(ws);
  assert.deepEqual(requests.at(-1), {
    containerId: 'c-main',
    tty: false,
    stdin: false,
    stdout: true,
    stderr: false,
  });
});

test('exec errors before the upgrade are plain HTTP answers', async () => {
  await assert.rejects(
    websocket('/exec/default/nope/main?command=x&stdout=1', ['v5.channel.k8s.io']),
    /HTTP 404/,
  );
  await assert.rejects(
    websocket('/exec/default/p/new?command=x&stdout=1', ['v5.channel.k8s.io']),
    /HTTP 404/,
  );
  await assert.rejects(websocket('/exec/default/p/main?stdout=1', ['v5.channel.k8s.io']), /HTTP 400/);
  await assert.rejects(
    websocket('/exec/default/p/main?command=x&stdout=1', ['base64.channel.k8s.io']),
    /HTTP 400/,
  );
});

/** Opens a TLS connection with the client cert and sends an upgrade request head. */
async function rawUpgrade(path: string, headers: string[]): Promise<{ socket: Duplex; head: string }> {
  const method = headers.some((h) => /^upgrade: websocket$/i.test(h)) ? 'GET' : 'POST';
  const socket = tlsConnect({
    host: '127.0.0.1',
    port: kubelet.port,
    ca: pki.ca.cert,
    cert: pki.admin.cert,
    key: pki.admin.key,
  });
  await once(socket, 'secureConnect');
  socket.write(
    `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n${headers.join('\r\n')}\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0) {
      socket.pause();
      if (end + 4 < buf.length) socket.unshift(buf.subarray(end + 4));
      return { socket, head: buf.subarray(0, end).toString() };
    }
  }
}

test('a SPDY client is relayed to the runtime unchanged', async () => {
  const { socket, head } = await rawUpgrade('/exec/default/p/main?command=cat&stdin=1&stdout=1', [
    'Upgrade: SPDY/3.1',
    'X-Stream-Protocol-Version: v4.channel.k8s.io',
    'X-Stream-Protocol-Version: v3.channel.k8s.io',
  ]);
  assert.match(head, /^HTTP\/1.1 101/);
  assert.match(head, /X-Stream-Protocol-Version: v4.channel.k8s.io/i);
  const spdy = new SpdySession(socket, { client: true });
  socket.resume();
  const open = async (type: string) => {
    const s = spdy.createStream({ streamtype: [type] });
    await s.replied;
    return s;
  };
  const error = await open('error');
  const errorText = readAll(error);
  const stdin = await open('stdin');
  const stdout = await open('stdout');
  const out = readAll(stdout);
  stdin.end('via spdy');
  assert.equal(await out, 'VIA SPDY');
  assert.equal(JSON.parse(await errorText).status, 'Success');
  spdy.destroy();
});

test('port-forward: plain SPDY upgrades and websocket tunnels are byte relays', async () => {
  const { socket, head } = await rawUpgrade('/portForward/default/p', [
    'Upgrade: SPDY/3.1',
    'X-Stream-Protocol-Version: portforward.k8s.io',
  ]);
  assert.match(head, /^HTTP\/1.1 101/);
  socket.resume();
  socket.write('ping-bytes');
  const [echo] = (await once(socket, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'ping-bytes');
  socket.destroy();

  // `ws` refuses to offer a subprotocol with a '/' in it, as kubectl does: handshake by hand.
  const tunnel = await rawUpgrade('/portForward/default/p', [
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io',
  ]);
  assert.match(tunnel.head, /^HTTP\/1.1 101/);
  assert.match(tunnel.head, /Sec-WebSocket-Protocol: SPDY\/3.1\+portforward.k8s.io/i);
  tunnel.socket.resume();
  const payload = Buffer.from('tunnelled');
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  tunnel.socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]));
  const [reply] = (await once(tunnel.socket, 'data')) as [Buffer];
  assert.equal(reply[0], 0x82, 'a binary message');
  assert.equal(reply.subarray(2, 2 + reply[1]!).toString(), 'tunnelled');
  tunnel.socket.destroy();
  await assert.rejects(websocket('/portForward/default/p', ['v5.channel.k8s.io']), /HTTP 400/);
});
