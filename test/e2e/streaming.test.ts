/**
 * E2E: logs, exec, attach, cp and port-forward through a real `skiff server` to a KubeletServer in
 * this process, over a real containerd, with real kubectl 1.35 (websockets; port-forward as SPDY in
 * a websocket) and 1.32 (SPDY port-forward). The pod's sandbox and containers are run through CRI
 * directly here (the pod manager is not involved), and the KubeletServer finds them through a
 * PodLookup built by the test.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { type ClientVersion, ensureClient } from '../../src/cli/tools.ts';
import type { RunningPodInfo } from '../../src/kubelet/contracts.ts';
import { createCriRuntime } from '../../src/kubelet/cri/client.ts';
import type { CriRuntime, PodSandboxConfig } from '../../src/kubelet/cri/types.ts';
import { ContainerLogManager, rotatedFiles } from '../../src/kubelet/server/logs/rotation.ts';
import { KubeletServer } from '../../src/kubelet/server/server.ts';
import { TestCluster } from '../helpers/cluster.ts';
import { containerdSkipReason, startTestContainerd } from '../helpers/containerd.ts';

const NS = 'default';
const POD = 'h5pod';
const NODE = 'h5node';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A long-running kubectl (attach, port-forward, a pty session) that the test stops itself. */
class Background {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;
  constructor(cmd: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.out += d.toString();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.err += d.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }
  async waitFor(re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`timed out waiting for ${re}: stdout=${this.out} stderr=${this.err}`);
      }
      await sleep(50);
    }
  }
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(t);
    }
  }
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

test('kubectl logs, exec, attach, cp and port-forward reach containers through the kubelet server', {
  timeout: 600_000,
}, async (t) => {
  const skip = containerdSkipReason();
  if (skip) return t.skip(skip);

  const ctd = await startTestContainerd({ name: 'skiffh5', bridge: 'skiffh5', subnet: '10.88.5.0/24' });
  t.after(() => ctd.stop());
  const cri: CriRuntime = createCriRuntime(ctd.socketPath);
  t.after(() => cri.close());
  const cluster = await TestCluster.start(['--disable-agent']);
  t.after(() => cluster.stop());
  const work = mkdtempSync(join(tmpdir(), 'skiff-h5-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // The node and the pod, as the API server sees them.
  await cluster.kubectlOk(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE } }),
  });
  const containers = ['main', 'counter', 'ticker'];
  await cluster.kubectlOk(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NS },
      spec: {
        nodeName: NODE,
        containers: containers.map((name) => ({ name, image: ctd.images.busybox })),
      },
    }),
  });
  await cluster.kubectlOk([
    'patch',
    'pod',
    POD,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { phase: 'Running' } }),
  ]);
  const uid = (await cluster.kubectlOk(['get', 'pod', POD, '-o', 'jsonpath={.metadata.uid}'])).trim();

  // The pod's sandbox and containers, run through CRI.
  const logDirectory = join(work, 'pods', `${NS}_${POD}_${uid}`);
  mkdirSync(logDirectory, { recursive: true });
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: POD, uid, namespace: NS, attempt: 0 },
    hostname: POD,
    logDirectory,
    linux: {},
  };
  const sandboxId = await cri.runPodSandbox(sandboxConfig);
  const running = new Map<string, string>();
  const run = async (name: string, attempt: number, script: string): Promise<string> => {
    const id = await cri.createContainer(
      sandboxId,
      {
        metadata: { name, attempt },
        image: { image: ctd.images.busybox },
        command: ['sh', '-c', script],
        logPath: `${name}/${attempt}.log`,
      },
      sandboxConfig,
    );
    await cri.startContainer(id);
    running.set(name, id);
    return id;
  };
  await run(
    'main',
    0,
    // stdout and stderr reach the log through separate pipes: pause so their order is fixed.
    'for i in 1 2 3 4 5; do echo line$i; done; sleep 0.3; echo err1 >&2; mkdir -p /www; ' +
      'echo hello-from-httpd > /www/index.html; exec httpd -f -p 8080 -h /www',
  );
  await run('ticker', 0, 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done');
  const lookup = {
    find(namespace: string, name: string): RunningPodInfo | undefined {
      if (namespace !== NS || name !== POD) return undefined;
      return { uid, namespace, name, sandboxId, containers: new Map(running), logDirectory };
    },
  };

  // The kubelet server, with a certificate from the cluster CA (the API server's serving pair has
  // 127.0.0.1 in its SANs and the serverAuth usage, which is all a kubelet serving cert needs).
  // The kubelet's debug log says which transport each session used.
  const kubeletLog = new PassThrough();
  let kubeletLines = '';
  kubeletLog.on('data', (d: Buffer) => {
    kubeletLines += d.toString();
  });
  const transports = () => {
    const seen = kubeletLines
      .split('\n')
      .filter((l) => l.includes('"transport"'))
      .map((l) => JSON.parse(l) as { transport: string; protocol: string });
    kubeletLines = '';
    return seen.map((l) => `${l.transport} ${l.protocol}`);
  };
  const tls = join(cluster.dataDir, 'tls');
  const kubelet = new KubeletServer({
    cert: readFileSync(join(tls, 'serving-kube-apiserver.crt'), 'utf8'),
    key: readFileSync(join(tls, 'serving-kube-apiserver.key'), 'utf8'),
    ca: readFileSync(join(tls, 'server-ca.crt'), 'utf8'),
    port: 0,
    address: '127.0.0.1',
    pods: lookup,
    runtime: cri,
    logger: pino({ level: 'debug' }, kubeletLog),
  });
  const port = await kubelet.start();
  t.after(() => kubelet.stop());
  await cluster.kubectlOk([
    'patch',
    'node',
    NODE,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
      },
    }),
  ]);
  await sleep(800); // main has written its lines

  await t.test(
    'log rotation: containerd reopens the log, kubectl logs -f follows into the new file',
    async () => {
      const tickerId = running.get('ticker')!;
      const live = join(logDirectory, 'ticker', '0.log');
      const manager = new ContainerLogManager({
        runtime: cri,
        containers: { runningContainers: () => [{ id: tickerId, logPath: live }] },
        maxSize: 64,
        maxFiles: 2,
      });
      const follow = new Background(await ensureClient('kubectl', '1.35'), [
        '--kubeconfig',
        cluster.kubeconfig,
        '--cache-dir',
        join(cluster.dataDir, 'cache-rotation'),
        'logs',
        '-f',
        POD,
        '-c',
        'ticker',
      ]);
      try {
        const before = Number((await follow.waitFor(/tick (\d+)\n/))[1]);
        await manager.rotateOnce();
        const rotated = await rotatedFiles(live);
        assert.equal(rotated.length, 1);
        assert.match(readFileSync(rotated[0]!, 'utf8'), /stdout F tick \d+/);
        // containerd writes the next lines into a fresh file at the same path.
        await sleep(1_000);
        const fresh = readFileSync(live, 'utf8');
        assert.match(fresh, /^\S+ stdout F tick \d+$/m);
        assert.ok(!fresh.includes(` tick ${before}\n`), 'the new file starts after the rotation');
        // The follower crossed over: it sees lines that only the new file has.
        const last = Number(/tick (\d+)\n$/.exec(fresh)![1]);
        await follow.waitFor(new RegExp(`tick ${last}\\n`));
        // maxFiles 2: one rotated file at most.
        await manager.rotateOnce();
        assert.equal((await rotatedFiles(live)).length, 1);
      } finally {
        await follow.stop();
      }
    },
  );

  let counterAttempt = 0;
  for (const version of ['1.35', '1.32'] as ClientVersion[]) {
    const kubectl = (args: string[], input?: string) =>
      cluster.kubectl(args, { version, ...(input === undefined ? {} : { input }) });
    const bin = await ensureClient('kubectl', version);
    const base = [
      '--kubeconfig',
      cluster.kubeconfig,
      '--cache-dir',
      join(cluster.dataDir, `cache-${version}`),
    ];

    await t.test(`kubectl ${version} logs`, async () => {
      const all = await kubectl(['logs', POD, '-c', 'main']);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(all.stdout, 'line1\nline2\nline3\nline4\nline5\nerr1\n');
      const tail = await kubectl(['logs', POD, '-c', 'main', '--tail=2']);
      assert.equal(tail.stdout, 'line5\nerr1\n');
      const ts = await kubectl(['logs', POD, '-c', 'main', '--timestamps', '--tail=1']);
      assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) err1\n$/);
      const since = await kubectl(['logs', POD, '-c', 'main', '--since=1h']);
      assert.equal(since.stdout.split('\n')[0], 'line1');
      const future = await kubectl([
        'logs',
        POD,
        '-c',
        'main',
        `--since-time=${new Date(Date.now() + 3_600_000).toISOString()}`,
      ]);
      assert.equal(future.code, 0, future.stderr);
      assert.equal(future.stdout, '');
      const limited = await kubectl(['logs', POD, '-c', 'main', '--limit-bytes=8']);
      assert.equal(limited.stdout, 'line1\nli');

      // -f streams a running container and ends when it exits; --previous reads the instance before.
      const attempt = counterAttempt++;
      await run('counter', attempt, `for i in 1 2 3; do echo count-${attempt}-$i; sleep 1; done`);
      const started = Date.now();
      const follow = await kubectl(['logs', '-f', POD, '-c', 'counter']);
      assert.equal(follow.code, 0, follow.stderr);
      assert.equal(follow.stdout, `count-${attempt}-1\ncount-${attempt}-2\ncount-${attempt}-3\n`);
      assert.ok(Date.now() - started >= 1_500, 'followed until the container exited');
      const prev = await kubectl(['logs', '--previous', POD, '-c', 'counter']);
      if (attempt === 0) {
        assert.notEqual(prev.code, 0);
        assert.match(prev.stderr, /previous terminated container "counter" in pod "h5pod" not found/);
      } else {
        assert.equal(prev.code, 0, prev.stderr);
        assert.equal(prev.stdout, `count-${attempt - 1}-1\ncount-${attempt - 1}-2\ncount-${attempt - 1}-3\n`);
      }
      if (attempt === 0) {
        // A second instance for --previous.
        const next = counterAttempt++;
        await run('counter', next, `for i in 1 2 3; do echo count-${next}-$i; done`);
        await sleep(500);
        const p2 = await kubectl(['logs', '--previous', POD, '-c', 'counter']);
        assert.equal(p2.stdout, 'count-0-1\ncount-0-2\ncount-0-3\n', p2.stderr);
      }
    });

    await t.test(`kubectl ${version} exec`, async () => {
      transports();
      const r = await kubectl([
        'exec',
        POD,
        '-c',
        'main',
        '--',
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      ]);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, 'out\n');
      assert.match(r.stderr, /err/);
      const ok = await kubectl(['exec', POD, '-c', 'main', '--', 'cat', '/www/index.html']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, 'hello-from-httpd\n');
      const piped = await kubectl(
        ['exec', '-i', POD, '-c', 'main', '--', 'tr', 'a-z', 'A-Z'],
        'hello stdin\n',
      );
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stdout, 'HELLO STDIN\n');
      assert.deepEqual(transports(), Array(3).fill('websocket v5.channel.k8s.io'));
      // kubectl's SPDY fallback (websockets turned off): relayed to containerd as is.
      const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
      const spdyExit = await cluster.kubectl(
        ['exec', POD, '-c', 'main', '--', 'sh', '-c', 'echo spdy; exit 5'],
        {
          version,
          env,
        },
      );
      assert.equal(spdyExit.code, 5, spdyExit.stderr);
      assert.equal(spdyExit.stdout, 'spdy\n');
      const spdyIn = await cluster.kubectl(['exec', '-i', POD, '-c', 'main', '--', 'tr', 'a-z', 'A-Z'], {
        version,
        env,
        input: 'over spdy\n',
      });
      assert.equal(spdyIn.stdout, 'OVER SPDY\n', spdyIn.stderr);
      assert.deepEqual(transports(), Array(2).fill('spdy v4.channel.k8s.io'));
      // A container that is not running: the kubelet's message, as kubectl shows it.
      const gone = await kubectl(['exec', POD, '-c', 'counter', '--', 'true']);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /container not found \("counter"\)/);
      // -it under a pty (script gives kubectl a terminal).
      const cmd = [
        bin,
        ...base,
        'exec',
        '-it',
        POD,
        '-c',
        'main',
        '--',
        'sh',
        '-c',
        'tty; echo tty-ok; exit 4',
      ]
        .map((a) => `'${a}'`)
        .join(' ');
      const pty = new Background('script', ['-qec', cmd, '/dev/null']);
      try {
        await pty.waitFor(/tty-ok/);
        assert.match(pty.out, /\/dev\/pts\/\d+/);
        assert.equal(await pty.exited, 4);
      } finally {
        await pty.stop();
      }
    });

    await t.test(`kubectl ${version} cp both ways`, async () => {
      const local = join(work, `up-${version}.txt`);
      const content = `${'x'.repeat(200_000)}\nend ${version}\n`;
      writeFileSync(local, content);
      const up = await kubectl(['cp', local, `${NS}/${POD}:/tmp/up.txt`, '-c', 'main']);
      assert.equal(up.code, 0, up.stderr);
      const cat = await kubectl([
        'exec',
        POD,
        '-c',
        'main',
        '--',
        'sh',
        '-c',
        'wc -c < /tmp/up.txt; tail -n1 /tmp/up.txt',
      ]);
      assert.equal(cat.stdout.replace(/^ +/, ''), `${Buffer.byteLength(content)}\nend ${version}\n`);
      const back = join(work, `down-${version}.txt`);
      const down = await kubectl(['cp', `${NS}/${POD}:/tmp/up.txt`, back, '-c', 'main']);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(readFileSync(back, 'utf8'), content);
      // Big outputs arrive whole, every time (the end of a stream must survive the runtime closing).
      for (let i = 0; i < 10; i++) {
        const big = await kubectl(['exec', POD, '-c', 'main', '--', 'cat', '/tmp/up.txt']);
        assert.equal(big.stdout.length, content.length, `run ${i}: ${big.stderr}`);
      }
    });

    await t.test(`kubectl ${version} attach`, async () => {
      transports();
      const a = new Background(bin, [...base, 'attach', POD, '-c', 'ticker']);
      try {
        const first = await a.waitFor(/tick (\d+)/);
        await a.waitFor(new RegExp(`tick ${Number(first[1]) + 2}\\b`));
      } finally {
        await a.stop();
      }
    });

    await t.test(`kubectl ${version} port-forward`, async () => {
      // Both versions tunnel SPDY through a websocket by default; with the websocket feature gate
      // off they upgrade to SPDY directly.
      for (const [env, transport] of [
        [{}, 'websocket SPDY/3.1+portforward.k8s.io'],
        [{ KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, 'spdy portforward.k8s.io'],
      ] as const) {
        transports();
        const pf = new Background(bin, [...base, 'port-forward', `pod/${POD}`, ':8080'], env);
        try {
          const m = await pf.waitFor(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
          const local = Number(m[1]);
          assert.equal(await httpGet(local), 'hello-from-httpd\n');
          assert.equal(await httpGet(local), 'hello-from-httpd\n');
          assert.deepEqual(transports(), [transport]);
        } finally {
          await pf.stop();
        }
      }
    });
  }
});
