/**
 * Captures the protobuf request bodies real kubectl sends, as fixtures for
 * src/apiserver/protobuf/kubectl.test.ts: for kubectl 1.35 and 1.32 it starts a throwaway
 * `skiff server`, puts a logging HTTPS proxy in front of it, runs each typed `kubectl create ...`
 * through the proxy and saves the protobuf body it POSTed as
 * src/apiserver/protobuf/testdata/kubectl<version>/<name>.bin, next to the JSON the same command
 * prints with `--dry-run=client -o json` (<name>.json), which is what kubectl would send as JSON.
 *
 * Usage: node_modules/.bin/node scripts/capture-kubectl-protobuf.ts
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pkiPaths } from '../src/apiserver/auth/pki.ts';
import { type ClientVersion, ensureClient } from '../src/cli/tools.ts';
import { TestCluster } from '../test/helpers/cluster.ts';

const exec = promisify(execFile);
const OUT = fileURLToPath(new URL('../src/apiserver/protobuf/testdata/', import.meta.url));

/** name → kubectl arguments. Run in order: later commands may depend on earlier ones. */
const COMMANDS: [string, string[]][] = [
  ['create-namespace', ['create', 'namespace', 'demo']],
  [
    'create-deployment',
    ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80', '-n', 'demo'],
  ],
  ['create-service-clusterip', ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', 'demo']],
  [
    'create-service-nodeport',
    ['create', 'service', 'nodeport', 'np', '--tcp=80:http', '--node-port=30080', '-n', 'demo'],
  ],
  [
    'create-service-externalname',
    ['create', 'service', 'externalname', 'ext', '--external-name=example.com', '-n', 'demo'],
  ],
  ['create-job', ['create', 'job', 'once', '--image=busybox', '-n', 'demo', '--', 'echo', 'hi']],
  [
    'create-cronjob',
    ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '-n', 'demo', '--', 'date'],
  ],
  ['create-job-from-cronjob', ['create', 'job', 'manual', '--from=cronjob/tick', '-n', 'demo']],
  [
    'create-role',
    ['create', 'role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps', '-n', 'demo'],
  ],
  [
    'create-rolebinding',
    [
      'create',
      'rolebinding',
      'read',
      '--role=reader',
      '--user=alice',
      '--serviceaccount=demo:default',
      '-n',
      'demo',
    ],
  ],
  [
    'create-clusterrole',
    ['create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz'],
  ],
  [
    'create-clusterrolebinding',
    ['create', 'clusterrolebinding', 'node-read', '--clusterrole=node-reader', '--group=devs'],
  ],
  ['create-serviceaccount', ['create', 'serviceaccount', 'bot', '-n', 'demo']],
  [
    'create-secret-generic',
    [
      'create',
      'secret',
      'generic',
      'creds',
      '--from-literal=user=admin',
      '--from-literal=pass=s3cr3t',
      '-n',
      'demo',
    ],
  ],
  [
    'create-secret-docker-registry',
    [
      'create',
      'secret',
      'docker-registry',
      'pull',
      '--docker-username=u',
      '--docker-password=p',
      '--docker-server=registry.example.com',
      '-n',
      'demo',
    ],
  ],
  [
    'create-configmap',
    ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=level=3', '-n', 'demo'],
  ],
  ['create-quota', ['create', 'quota', 'limits', '--hard=cpu=1500m,memory=1Gi,pods=10', '-n', 'demo']],
  [
    'create-priorityclass',
    [
      'create',
      'priorityclass',
      'high',
      '--value=1000',
      '--description=important',
      '--preemption-policy=Never',
    ],
  ],
  [
    'create-poddisruptionbudget',
    ['create', 'poddisruptionbudget', 'web', '--selector=app=web', '--min-available=50%', '-n', 'demo'],
  ],
  ['create-ingress', ['create', 'ingress', 'web', '--rule=foo.com/bar=web:8080', '-n', 'demo']],
  ['create-token', ['create', 'token', 'bot', '--duration=10m', '--audience=api', '-n', 'demo']],
];

/** Commands without a client-side dry run. */
const NO_DRY_RUN = new Set(['create-token']);

interface Captured {
  method: string;
  url: string;
  body: Buffer;
}

/** A TLS proxy (with the cluster's serving certificate) that records protobuf request bodies. */
async function startProxy(cluster: TestCluster, captured: Captured[]) {
  const paths = pkiPaths(cluster.dataDir);
  const upstream = new URL(cluster.server);
  const tls = {
    ca: readFileSync(paths.caCert),
    cert: readFileSync(paths.adminCert),
    key: readFileSync(paths.adminKey),
  };
  const server = createServer(
    { cert: readFileSync(paths.servingCert), key: readFileSync(paths.servingKey) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (
          String(req.headers['content-type']).startsWith('application/vnd.kubernetes.protobuf') &&
          body.length
        ) {
          captured.push({ method: req.method ?? '', url: req.url ?? '', body });
        }
        const up = request(
          {
            ...tls,
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: upstream.host },
          },
          (ur) => {
            res.writeHead(ur.statusCode ?? 502, ur.headers);
            ur.pipe(res);
          },
        );
        up.on('error', (err) => {
          res.writeHead(502);
          res.end(String(err));
        });
        up.end(body);
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const kubeconfig = join(cluster.dataDir, 'proxy-kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    readFileSync(cluster.kubeconfig, 'utf8').replace(cluster.server, `https://127.0.0.1:${port}`),
  );
  return { server, kubeconfig };
}

async function captureWith(version: ClientVersion): Promise<void> {
  const kubectl = await ensureClient('kubectl', version);
  const cluster = await TestCluster.start(['--disable-agent']);
  const captured: Captured[] = [];
  const { server, kubeconfig } = await startProxy(cluster, captured);
  const dir = join(OUT, `kubectl${version}`);
  mkdirSync(dir, { recursive: true });
  const run = async (args: string[]) => {
    try {
      const { stdout } = await exec(kubectl, [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(cluster.dataDir, 'cache'),
        ...args,
      ]);
      return { ok: true, stdout, stderr: '' };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
    }
  };
  try {
    for (const [name, args] of COMMANDS) {
      if (!NO_DRY_RUN.has(name)) {
        // Flags go before `--`, after which come the container's command and arguments.
        const at = args.includes('--') ? args.indexOf('--') : args.length;
        const dry = await run([...args.slice(0, at), '--dry-run=client', '-o', 'json', ...args.slice(at)]);
        if (!dry.ok) throw new Error(`kubectl ${version} ${args.join(' ')} --dry-run: ${dry.stderr}`);
        writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(JSON.parse(dry.stdout), null, 2)}\n`);
      }
      const before = captured.length;
      const r = await run(args);
      const bodies = captured.slice(before);
      const body = bodies.find((c) => c.method === 'POST');
      if (!body) throw new Error(`kubectl ${version} ${args.join(' ')} sent no protobuf body: ${r.stderr}`);
      writeFileSync(join(dir, `${name}.bin`), body.body);
      process.stdout.write(
        `kubectl ${version} ${name}: ${body.method} ${body.url.split('?')[0]} ${body.body.length} bytes` +
          `${r.ok ? '' : ` (server said: ${r.stderr.trim().split('\n').pop()})`}\n`,
      );
    }
  } finally {
    server.close();
    await cluster.stop();
  }
}

for (const version of ['1.35', '1.32'] as const) await captureWith(version);
