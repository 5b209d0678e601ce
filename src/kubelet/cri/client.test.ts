/**
 * The CRI client against an in-process gRPC server that serves the same api.proto on a unix socket:
 * request encoding, result mapping, errors, deadlines and cancellation. (Against real containerd:
 * test/e2e/cri.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createCriRuntime, denull, socketTarget } from './client.ts';
import { CriError, GrpcCode, isNotFound } from './errors.ts';
import type { CriRuntime } from './types.ts';

type Handler = (req: Record<string, unknown>) => unknown;

const received: { method: string; req: Record<string, unknown> }[] = [];
const handlers: Record<string, Handler> = {
  Version: () => ({ version: '0.1.0', runtimeName: 'test', runtimeVersion: 'v9', runtimeApiVersion: 'v1' }),
  RunPodSandbox: () => ({ podSandboxId: 'sb-1' }),
  PodSandboxStatus: (req) => {
    if (req.podSandboxId !== 'sb-1') throw { code: grpc.status.NOT_FOUND, details: 'sandbox not found' };
    return {
      status: {
        id: 'sb-1',
        metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 2 },
        state: 'SANDBOX_NOTREADY',
        createdAt: 1_700_000_000_000_000_000,
        network: { ip: '10.88.2.5', additionalIps: [{ ip: 'fd00::5' }] },
        labels: { a: 'b' },
      },
    };
  },
  ContainerStatus: () => ({
    status: {
      id: 'c-1',
      metadata: { name: 'main', attempt: 1 },
      state: 'CONTAINER_EXITED',
      exitCode: 137,
      reason: 'OOMKilled',
      mounts: [{ containerPath: '/data', hostPath: '/h', propagation: 'PROPAGATION_BIDIRECTIONAL' }],
    },
  }),
  CreateContainer: () => ({ containerId: 'c-1' }),
  StopContainer: () => ({}),
  ExecSync: () => ({ stdout: Buffer.from('out\n'), stderr: Buffer.from('err'), exitCode: 3 }),
  ListContainerStats: () => ({ stats: [] }),
  ImageStatus: () => ({}),
  PullImage: () => ({ imageRef: 'sha256:abc' }),
  Exec: () => new Promise(() => {}), // hangs: for deadline and abort tests
};

let dir: string;
let server: grpc.Server;
let rt: CriRuntime;
let sockPath: string;

function serviceImpl(service: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const name of Object.keys(service)) {
    impl[name] = (
      call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      received.push({ method: name, req: call.request });
      const handler = handlers[name];
      if (!handler) return cb({ code: grpc.status.UNIMPLEMENTED, details: `${name} not served` });
      Promise.resolve()
        .then(() => handler(call.request))
        .then(
          (res) => cb(null, res),
          (err: Partial<grpc.ServiceError>) => cb(err),
        );
    };
  }
  return impl;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'skiff-cri-client-'));
  const def = protoLoader.loadSync(fileURLToPath(new URL('./api.proto', import.meta.url)), {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: Record<string, grpc.ServiceClientConstructor> };
  };
  server = new grpc.Server();
  for (const svc of ['RuntimeService', 'ImageService']) {
    const service = pkg.runtime.v1[svc]!.service;
    server.addService(service, serviceImpl(service));
  }
  const sock = path.join(dir, 'cri.sock');
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(socketTarget(sock), grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  sockPath = sock;
  rt = createCriRuntime(sock, { timeoutMs: 10_000 });
});

after(async () => {
  rt.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('CRI client', () => {
  it('sends requests with upstream field names and maps responses', async () => {
    assert.equal((await rt.version()).runtimeName, 'test');
    const id = await rt.runPodSandbox(
      {
        metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 0 },
        labels: { x: 'y' },
        portMappings: [{ protocol: 'UDP', containerPort: 53, hostPort: 5353 }],
        linux: { cgroupParent: '/skiff/pod-u', securityContext: { namespaceOptions: { network: 'NODE' } } },
      },
      { runtimeHandler: 'runc' },
    );
    assert.equal(id, 'sb-1');
    const req = received.find((r) => r.method === 'RunPodSandbox')!.req as {
      config: {
        labels: Record<string, string>;
        portMappings: { protocol: string; containerPort: number; hostPort: number }[];
        linux: {
          cgroupParent: string;
          securityContext: { namespaceOptions: { network: string; pid: string } };
        };
      };
      runtimeHandler: string;
    };
    assert.equal(req.runtimeHandler, 'runc');
    assert.deepEqual(req.config.labels, { x: 'y' });
    assert.deepEqual(req.config.portMappings[0], {
      protocol: 'UDP',
      containerPort: 53,
      hostPort: 5353,
      hostIp: '',
    });
    assert.equal(req.config.linux.cgroupParent, '/skiff/pod-u');
    assert.equal(req.config.linux.securityContext.namespaceOptions.network, 'NODE');
    assert.equal(req.config.linux.securityContext.namespaceOptions.pid, 'POD');

    const st = await rt.podSandboxStatus('sb-1');
    assert.equal(st.state, 'SANDBOX_NOTREADY');
    assert.equal(st.metadata.attempt, 2);
    assert.equal(typeof st.createdAt, 'number');
    assert.ok(Math.abs(st.createdAt - 1_700_000_000_000_000_000) < 1_000);
    assert.deepEqual(st.network, { ip: '10.88.2.5', additionalIps: [{ ip: 'fd00::5' }] });
    assert.deepEqual(st.labels, { a: 'b' });
    assert.deepEqual(st.annotations, {});
    assert.ok(!('linux' in st), 'absent messages are undefined, not null');

    const cs = await rt.containerStatus('c-1');
    assert.deepEqual([cs.state, cs.exitCode, cs.reason], ['CONTAINER_EXITED', 137, 'OOMKilled']);
    assert.deepEqual(cs.mounts, [
      {
        containerPath: '/data',
        hostPath: '/h',
        readonly: false,
        selinuxRelabel: false,
        propagation: 'PROPAGATION_BIDIRECTIONAL',
      },
    ]);
  });

  it('carries container config, exec results, filters and image calls', async () => {
    await rt.createContainer(
      'sb-1',
      {
        metadata: { name: 'main', attempt: 0 },
        image: { image: 'busybox' },
        command: ['sh', '-c'],
        args: ['echo hi'],
        envs: [{ key: 'A', value: '1' }],
        logPath: 'main/0.log',
        linux: {
          resources: { memoryLimitInBytes: 16 * 1024 * 1024, cpuShares: 2 },
          securityContext: {
            runAsUser: { value: 1000 },
            capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: [] },
          },
        },
      },
      { metadata: { name: 'p', uid: 'u', namespace: 'ns', attempt: 0 } },
    );
    const cc = received.find((r) => r.method === 'CreateContainer')!.req as {
      podSandboxId: string;
      config: {
        args: string[];
        envs: unknown[];
        logPath: string;
        linux: {
          resources: { memoryLimitInBytes: number };
          securityContext: { runAsUser: { value: number } };
        };
      };
      sandboxConfig: { metadata: { uid: string } };
    };
    assert.equal(cc.podSandboxId, 'sb-1');
    assert.deepEqual(cc.config.args, ['echo hi']);
    assert.deepEqual(cc.config.envs, [{ key: 'A', value: '1' }]);
    assert.equal(cc.config.logPath, 'main/0.log');
    assert.equal(cc.config.linux.resources.memoryLimitInBytes, 16 * 1024 * 1024);
    assert.equal(cc.config.linux.securityContext.runAsUser.value, 1000);
    assert.equal(cc.sandboxConfig.metadata.uid, 'u');

    const ex = await rt.execSync('c-1', ['sh', '-c', 'exit 3'], 5);
    assert.ok(Buffer.isBuffer(ex.stdout));
    assert.deepEqual([ex.stdout.toString(), ex.stderr.toString(), ex.exitCode], ['out\n', 'err', 3]);
    assert.equal((received.findLast((r) => r.method === 'ExecSync')!.req as { timeout: number }).timeout, 5);

    await rt.stopContainer('c-1', 30);
    assert.equal(
      (received.findLast((r) => r.method === 'StopContainer')!.req as { timeout: number }).timeout,
      30,
    );

    await rt.listContainerStats({ podSandboxId: 'sb-1', state: { state: 'CONTAINER_RUNNING' } });
    const lf = received.findLast((r) => r.method === 'ListContainerStats')!.req as { filter: unknown };
    assert.deepEqual(lf.filter, { id: '', podSandboxId: 'sb-1', labelSelector: {} });

    assert.equal(await rt.imageStatus('busybox'), undefined);
    assert.equal(await rt.pullImage('busybox', { username: 'u', password: 'p' }), 'sha256:abc');
    const pr = received.findLast((r) => r.method === 'PullImage')!.req as {
      image: { image: string };
      auth: { username: string; password: string };
    };
    assert.equal(pr.image.image, 'busybox');
    assert.deepEqual([pr.auth.username, pr.auth.password], ['u', 'p']);
  });

  it('rejects with CriError carrying the gRPC code', async () => {
    await assert.rejects(rt.podSandboxStatus('nope'), (e: unknown) => {
      assert.ok(e instanceof CriError);
      assert.equal(e.code, GrpcCode.NOT_FOUND);
      assert.equal(e.codeName, 'NOT_FOUND');
      assert.equal(e.method, 'PodSandboxStatus');
      assert.equal(e.details, 'sandbox not found');
      return isNotFound(e);
    });
    await assert.rejects(
      rt.listImages(),
      (e: unknown) => e instanceof CriError && e.code === GrpcCode.UNIMPLEMENTED,
    );
  });

  it('applies the deadline and honours AbortSignal', async () => {
    const short = createCriRuntime(sockPath, { timeoutMs: 300 });
    try {
      await short.version(); // connected
      const t0 = performance.now();
      await assert.rejects(
        short.exec({ containerId: 'c-1', cmd: ['sh'], stdout: true }),
        (e: unknown) => e instanceof CriError && e.code === GrpcCode.DEADLINE_EXCEEDED,
      );
      assert.ok(performance.now() - t0 < 5_000);
    } finally {
      short.close();
    }

    const ac = new AbortController();
    const p = rt.exec({ containerId: 'c-1', cmd: ['sh'], stdout: true }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, { name: 'AbortError' });
    await assert.rejects(rt.version({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  it('fails fast with UNAVAILABLE when nothing listens', async () => {
    const gone = createCriRuntime(path.join(dir, 'missing.sock'), { timeoutMs: 5_000 });
    try {
      const t0 = performance.now();
      await assert.rejects(
        gone.version(),
        (e: unknown) => e instanceof CriError && e.code === GrpcCode.UNAVAILABLE,
      );
      assert.ok(performance.now() - t0 < 4_000);
    } finally {
      gone.close();
    }
  });

  it('rejects with a CriError after close()', async () => {
    const closed = createCriRuntime(sockPath);
    closed.close();
    await assert.rejects(closed.version(), (e: unknown) => e instanceof CriError && e.method === 'Version');
  });

  it('denull removes nulls recursively and keeps buffers', () => {
    const buf = Buffer.from('x');
    assert.deepEqual(denull({ a: null, b: { c: null, d: 1 }, e: [{ f: null }], g: buf }), {
      b: { d: 1 },
      e: [{}],
      g: buf,
    });
  });
});
