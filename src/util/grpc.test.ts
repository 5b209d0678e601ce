/**
 * The unary gRPC client against real gRPC servers (@grpc/grpc-js, on a unix socket and on TCP) and
 * against a plain HTTP/2 server that is not gRPC.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { GrpcChannel, GrpcError, grpcTimeout, Status } from './grpc.ts';

const raw = (b: Buffer) => b;
const method = (name: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path: `/test.Echo/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});
const SERVICE = { Echo: method('Echo'), Fail: method('Fail'), Hang: method('Hang'), Big: method('Big') };

let seenDeadline: Date | number | undefined;
const impl: grpc.UntypedServiceImplementation = {
  Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb(null, call.request),
  Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb({ code: grpc.status.NOT_FOUND, details: 'no such thing: 100% gone, ünïcode' }),
  Hang: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
    seenDeadline = call.getDeadline();
  },
  Big: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb(null, Buffer.alloc(64 * 1024, 7)),
};

async function serve(address: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(SERVICE, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port };
}

let dir: string;
let sock: string;
let server: grpc.Server;
let channel: GrpcChannel;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'skiff-grpc-'));
  sock = path.join(dir, 'echo.sock');
  server = (await serve(`unix://${sock}`)).server;
  channel = new GrpcChannel({ socketPath: sock }, { maxMessageBytes: 2 * 1024 * 1024 });
});

after(() => {
  channel.close();
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

const call = (ch: GrpcChannel, name: string, body: Buffer, deadlineMs = 5_000, signal?: AbortSignal) =>
  ch.unary(`/test.Echo/${name}`, body, { deadlineMs, signal });

const rejectsWith = (p: Promise<unknown>, code: number, details?: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof GrpcError, `a GrpcError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (details) assert.match(e.details, details);
    return true;
  });

describe('GrpcChannel', () => {
  it('round-trips messages, empty, large (many DATA frames) and concurrent', async () => {
    assert.deepEqual(await call(channel, 'Echo', Buffer.from('hello')), Buffer.from('hello'));
    assert.equal((await call(channel, 'Echo', Buffer.alloc(0))).length, 0);
    const big = Buffer.alloc(1024 * 1024 + 3);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    assert.ok((await call(channel, 'Echo', big)).equals(big));
    const bodies = Array.from({ length: 100 }, (_, i) => Buffer.from(`message ${i}`));
    const out = await Promise.all(bodies.map((b) => call(channel, 'Echo', b)));
    assert.deepEqual(out, bodies);
  });

  it('carries the server status and its percent-encoded message; unknown methods are UNIMPLEMENTED', async () => {
    await rejectsWith(
      call(channel, 'Fail', Buffer.from('x')),
      Status.NOT_FOUND,
      /^no such thing: 100% gone, ünïcode$/,
    );
    await assert.rejects(call(channel, 'Fail', Buffer.alloc(0)), {
      message: 'rpc error: code = NotFound desc = no such thing: 100% gone, ünïcode',
    });
    await rejectsWith(
      channel.unary('/test.Echo/Nope', Buffer.alloc(0), { deadlineMs: 5_000 }),
      Status.UNIMPLEMENTED,
    );
  });

  it('sends its deadline and cancels the call when it passes; an abort rejects with the reason', async () => {
    const t0 = Date.now();
    await rejectsWith(call(channel, 'Hang', Buffer.alloc(0), 200), Status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 < 3_000);
    const serverDeadline = seenDeadline === undefined ? Infinity : new Date(seenDeadline).getTime();
    assert.ok(serverDeadline - t0 < 2_000, `the server knew the deadline (${String(seenDeadline)})`);

    const ac = new AbortController();
    const p = call(channel, 'Hang', Buffer.alloc(0), 0, ac.signal);
    setTimeout(() => ac.abort(new Error('stop now')), 20);
    await assert.rejects(p, { message: 'stop now' });
    await assert.rejects(call(channel, 'Echo', Buffer.alloc(0), 0, AbortSignal.abort()), {
      name: 'AbortError',
    });
    assert.deepEqual(await call(channel, 'Echo', Buffer.from('still fine')), Buffer.from('still fine'));
  });

  it('refuses messages over the limit, both ways', async () => {
    const small = new GrpcChannel({ socketPath: sock }, { maxMessageBytes: 1024 });
    try {
      await rejectsWith(call(small, 'Echo', Buffer.alloc(2048)), Status.RESOURCE_EXHAUSTED);
      await rejectsWith(call(small, 'Big', Buffer.alloc(0)), Status.RESOURCE_EXHAUSTED);
      assert.deepEqual(await call(small, 'Echo', Buffer.from('ok')), Buffer.from('ok'));
    } finally {
      small.close();
    }
  });

  it('fails fast with UNAVAILABLE while nothing listens, and reconnects when the server is back', async () => {
    const s2 = path.join(dir, 'restart.sock');
    const ch = new GrpcChannel({ socketPath: s2 });
    try {
      const t0 = Date.now();
      await rejectsWith(call(ch, 'Echo', Buffer.alloc(0)), Status.UNAVAILABLE, /ENOENT/);
      assert.ok(Date.now() - t0 < 2_000);
      let srv = (await serve(`unix://${s2}`)).server;
      assert.deepEqual(await call(ch, 'Echo', Buffer.from('a')), Buffer.from('a'));
      srv.forceShutdown();
      await rejectsWith(call(ch, 'Echo', Buffer.from('b')), Status.UNAVAILABLE);
      srv = (await serve(`unix://${s2}`)).server;
      assert.deepEqual(await call(ch, 'Echo', Buffer.from('c')), Buffer.from('c'));
      srv.forceShutdown();
    } finally {
      ch.close();
    }
    await rejectsWith(call(ch, 'Echo', Buffer.alloc(0)), Status.FAILED_PRECONDITION, /closed/);
  });

  it('works over TCP', async () => {
    const { server: tcp, port } = await serve('127.0.0.1:0');
    const ch = new GrpcChannel({ host: '127.0.0.1', port });
    try {
      assert.equal(ch.address, `127.0.0.1:${port}`);
      assert.deepEqual(await call(ch, 'Echo', Buffer.from('tcp')), Buffer.from('tcp'));
    } finally {
      ch.close();
      tcp.forceShutdown();
    }
  });

  it('maps the HTTP status of a server that is not gRPC', async () => {
    const h2 = http2.createServer((req, res) => {
      res.writeHead(req.url === '/busy' ? 503 : 404).end('not grpc');
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    const ch = new GrpcChannel({ host: '127.0.0.1', port: (h2.address() as AddressInfo).port });
    try {
      await rejectsWith(
        ch.unary('/x', Buffer.alloc(0), { deadlineMs: 5_000 }),
        Status.UNIMPLEMENTED,
        /HTTP status 404/,
      );
      await rejectsWith(ch.unary('/busy', Buffer.alloc(0), { deadlineMs: 5_000 }), Status.UNAVAILABLE);
    } finally {
      ch.close();
      h2.close();
    }
  });

  it('an idle channel does not keep the process alive', async () => {
    // A child makes one call and never closes its channel: it must exit on its own.
    const module = fileURLToPath(new URL('./grpc.ts', import.meta.url));
    const script = `import { GrpcChannel } from ${JSON.stringify(module)};
      const ch = new GrpcChannel({ socketPath: ${JSON.stringify(sock)} });
      const out = await ch.unary('/test.Echo/Echo', Buffer.from('bye'), { deadlineMs: 5000 });
      process.stdout.write(out.toString());`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
    });
    assert.equal(stdout, 'bye');
  });

  it('writes grpc-timeout in at most 8 digits', () => {
    assert.equal(grpcTimeout(1500), '1500m');
    assert.equal(grpcTimeout(0.2), '1m');
    assert.equal(grpcTimeout(99_999_999), '99999999m');
    assert.equal(grpcTimeout(100_000_000), '100000S');
    assert.equal(grpcTimeout(1e15), '99999999S');
  });
});
