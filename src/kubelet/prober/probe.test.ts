import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { Container } from 'kubernetes-types/core/v1.js';
import { FakeRuntime } from '../cri/fake.ts';
import { decodeHealthResponse, encodeHealthRequest, httpUrl, PROBE_USER_AGENT, runProbe } from './probe.ts';

/** grpc.health.v1.Health/Check served by grpc-js (a real gRPC server for the prober's own client). */
const HEALTH_SERVICE = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (r: { service: string }) => encodeHealthRequest(r.service),
    // HealthCheckRequest: field 1, a short string (one length byte).
    requestDeserialize: (b: Buffer) => ({ service: b.length > 2 ? b.subarray(2, 2 + b[1]!).toString() : '' }),
    responseSerialize: (n: number) => Buffer.from([0x08, n]),
    responseDeserialize: (b: Buffer) => decodeHealthResponse(b),
  },
} satisfies grpc.ServiceDefinition;

const container: Container = { name: 'app', ports: [{ name: 'web', containerPort: 8080 }] };
let httpServer: http.Server;
let httpPort = 0;
let seenHeaders: http.IncomingHttpHeaders = {};
let grpcServer: grpc.Server;
let grpcPort = 0;
let serving = 1;

before(async () => {
  httpServer = http.createServer((req, res) => {
    seenHeaders = req.headers;
    if (req.url === '/ok') res.writeHead(200).end('fine');
    else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 3000).unref();
    else res.writeHead(500).end('bad');
  });
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  httpPort = (httpServer.address() as net.AddressInfo).port;
  grpcServer = new grpc.Server();
  grpcServer.addService(HEALTH_SERVICE, {
    check: (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) =>
      cb(null, call.request.service === 'unknown' ? 3 : serving),
  });
  grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
});

after(() => {
  httpServer.closeAllConnections();
  httpServer.close();
  grpcServer.forceShutdown();
});

const target = () => ({ containerId: 'c', container, podIP: '127.0.0.1' });

test('httpGet: 2xx/3xx succeed, others fail with the kubelet message; headers and user agent', async () => {
  let r = await runProbe(
    new FakeRuntime(),
    { httpGet: { path: '/ok', port: httpPort, httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } },
    target(),
  );
  assert.equal(r.result, 'success');
  assert.equal(seenHeaders['user-agent'], PROBE_USER_AGENT);
  assert.equal(seenHeaders['x-probe'], 'yes');
  r = await runProbe(new FakeRuntime(), { httpGet: { path: '/redirect', port: httpPort } }, target());
  assert.equal(r.result, 'success');
  r = await runProbe(new FakeRuntime(), { httpGet: { path: '/boom', port: httpPort } }, target());
  assert.deepEqual(r, { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
  r = await runProbe(
    new FakeRuntime(),
    { httpGet: { path: '/slow', port: httpPort }, timeoutSeconds: 1 },
    target(),
  );
  assert.equal(r.result, 'failure');
  assert.match(r.output, /context deadline exceeded/);
});

test('httpGet: named ports and URL shape', () => {
  assert.equal(httpUrl({ port: 'web', path: 'healthz' }, target()).href, 'http://127.0.0.1:8080/healthz');
  assert.equal(httpUrl({ port: 443, scheme: 'HTTPS', host: '::1' }, target()).href, 'https://[::1]/');
});

test('tcpSocket: connects or fails with connection refused', async () => {
  assert.equal(
    (await runProbe(new FakeRuntime(), { tcpSocket: { port: httpPort } }, target())).result,
    'success',
  );
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const r = await runProbe(new FakeRuntime(), { tcpSocket: { port } }, target());
  assert.deepEqual(r, {
    result: 'failure',
    output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
  });
});

test('grpc: SERVING succeeds, anything else fails', async () => {
  serving = 1;
  assert.equal((await runProbe(new FakeRuntime(), { grpc: { port: grpcPort } }, target())).result, 'success');
  serving = 2;
  assert.deepEqual(await runProbe(new FakeRuntime(), { grpc: { port: grpcPort } }, target()), {
    result: 'failure',
    output: 'service unhealthy (responded with "NOT_SERVING")',
  });
  assert.equal(
    (await runProbe(new FakeRuntime(), { grpc: { port: grpcPort, service: 'unknown' } }, target())).output,
    'service unhealthy (responded with "SERVICE_UNKNOWN")',
  );
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const r = await runProbe(new FakeRuntime(), { grpc: { port } }, target());
  assert.equal(r.result, 'failure');
  assert.match(
    r.output,
    new RegExp(`^timeout: failed to connect service "127\\.0\\.0\\.1:${port}" within 1s: .*ECONNREFUSED`),
  );
});

test('exec: exit code decides, output is stdout+stderr, timeouts fail', async () => {
  const cri = new FakeRuntime({ images: ['busybox'] });
  const sb = await cri.runPodSandbox({ metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 } });
  const id = await cri.createContainer(
    sb,
    { metadata: { name: 'c', attempt: 0 }, image: { image: 'busybox' } },
    { metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 0 } },
  );
  await cri.startContainer(id);
  cri.setExecSyncResult(id, (cmd) => ({ exitCode: cmd[0] === 'ok' ? 0 : 2, stdout: 'out ', stderr: 'err' }));
  const t = { containerId: id, container, podIP: '' };
  assert.equal((await runProbe(cri, { exec: { command: ['ok'] } }, t)).result, 'success');
  assert.deepEqual(await runProbe(cri, { exec: { command: ['no'] } }, t), {
    result: 'failure',
    output: 'out err',
  });
  assert.equal(cri.callsOf('execSync')[0]!.args[2], 1, 'timeoutSeconds defaults to 1');
});
