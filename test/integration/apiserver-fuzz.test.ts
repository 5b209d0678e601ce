/**
 * Thousands of malformed and mutated requests against a real `skiff server`: every answer is a 4xx
 * Status (or a success), never a 5xx, the server never crashes, and no request hangs.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import { loadKubeconfig } from '../../src/apiserver/auth/kubeconfig.ts';
import { TestCluster } from '../helpers/cluster.ts';

let cluster: TestCluster;
let creds: { ca: string; cert: string; key: string; host: string; port: number };

before(async () => {
  cluster = await TestCluster.start();
  const cfg = loadKubeconfig(cluster.kubeconfig);
  const url = new URL(cfg.server);
  creds = {
    ca: cfg.ca ?? '',
    cert: cfg.cert ?? '',
    key: cfg.key ?? '',
    host: url.hostname,
    port: Number(url.port),
  };
});
after(async () => {
  await cluster?.stop();
});

interface Answer {
  status: number;
  body: string;
}

function send(
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: creds.host,
        port: creds.port,
        method,
        path,
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        headers,
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        // A watch that was accepted streams for as long as it lasts, possibly silently: its status
        // (and its first bytes, if any come at once) are what there is to judge.
        if (path.includes('watch=') && res.statusCode === 200) {
          setTimeout(() => req.destroy(), 200);
        }
        res.on('data', (c: Buffer) => {
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('close', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('timeout', () => {
      req.destroy();
      reject(new Error(`${method} ${path} hung`));
    });
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') resolve({ status: 0, body: '' });
      else reject(e);
    });
    req.end(body);
  });
}

/** A small deterministic PRNG, so a failure can be reproduced from its seed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  '/api/v1/namespaces/default/configmaps',
  '/api/v1/namespaces/default/configmaps/fuzz',
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/pods/fuzz',
  '/api/v1/namespaces/default/pods/fuzz/status',
  '/api/v1/namespaces/default/pods/fuzz/binding',
  '/api/v1/namespaces/default/pods/fuzz/eviction',
  '/api/v1/namespaces/default/services',
  '/api/v1/namespaces/default/services/fuzz',
  '/api/v1/namespaces/default/secrets',
  '/api/v1/namespaces',
  '/api/v1/namespaces/fuzz',
  '/api/v1/nodes',
  '/apis/apps/v1/namespaces/default/deployments',
  '/apis/apps/v1/namespaces/default/deployments/fuzz',
  '/apis/apps/v1/namespaces/default/deployments/fuzz/scale',
  '/apis/batch/v1/namespaces/default/jobs',
  '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  '/apis/nope/v9/things',
  '/api/v2/pods',
  '/apis',
  '/api',
  '/api/v1',
  '/version',
  '/%zz',
  '/api/v1/namespaces/%zz/pods',
  '/api/v1/namespaces/default/pods/%E0%A4%A/exec',
  '/api/v1/namespaces/default/configmaps/%00',
];

const SEEDS = [
  '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fuzz"},"data":{"a":"b"}}',
  '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fuzz","labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80}]}]}}',
  '{"apiVersion":"v1","kind":"Service","metadata":{"name":"fuzz"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30007}]}}',
  '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fuzz"},"spec":{"replicas":2,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}',
  '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fuzz"}}',
  '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"fuzz"},"target":{"kind":"Node","name":"n1"}}',
  '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","gracePeriodSeconds":0}',
  '[{"op":"replace","path":"/data/a","value":"c"}]',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fuzz\ndata:\n  a: &x b\n  c: *x\n',
];

const CONTENT_TYPES = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
  'application/apply-patch+yaml',
  'text/plain',
  '',
  'application/json; charset=utf-8',
  'multipart/form-data; boundary=x',
];

const QUERIES = [
  '',
  '?labelSelector=a%3Db',
  '?labelSelector=a+in+(',
  '?labelSelector=!!!',
  '?fieldSelector=metadata.name%3Dx',
  '?fieldSelector=spec.bogus%3Dx',
  '?fieldSelector=%3D%3D%3D',
  '?limit=-1',
  '?limit=abc',
  '?limit=2&continue=garbage',
  '?resourceVersion=abc',
  '?resourceVersion=99999999999',
  '?resourceVersion=1&resourceVersionMatch=Exact',
  '?resourceVersionMatch=Bogus&resourceVersion=1',
  '?watch=true&resourceVersion=1',
  '?watch=true&timeoutSeconds=1',
  '?watch=true&sendInitialEvents=true',
  '?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1',
  '?watch=maybe',
  '?dryRun=All',
  '?dryRun=Bogus',
  '?fieldValidation=Nope',
  `?fieldManager=${'x'.repeat(200)}`,
  '?gracePeriodSeconds=-5',
  '?propagationPolicy=Sideways',
];

function mutate(r: () => number, text: string): Buffer {
  const bytes = Buffer.from(text);
  const choice = Math.floor(r() * 10);
  if (choice === 0)
    return Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256)));
  if (choice === 1) return bytes.subarray(0, Math.floor(r() * bytes.length));
  if (choice === 2) {
    const b = Buffer.from(bytes);
    for (let i = 0; i < 1 + r() * 5; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    return b;
  }
  if (choice === 3) return Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`);
  if (choice === 4) return Buffer.from(text.replace(/"[a-z]+"/, '123'));
  if (choice === 5) return Buffer.from(text.replace(/"fuzz"/, JSON.stringify('Fuzz Ω/../%00')));
  if (choice === 6) return Buffer.from(text.replace(/:\s*"[^"]*"/, ':{"x":[1,2,{"y":null}]}'));
  if (choice === 7) return Buffer.from(`k8s\0${text}`);
  if (choice === 8) return Buffer.from(text.replace(/\d+/, '-99999999999999999999'));
  return bytes;
}

test('thousands of mutated requests: no 5xx, no crash, no hang', { timeout: 240_000 }, async () => {
  const r = rng(20261125);
  const total = 3000;
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  const failures: string[] = [];
  const codes = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const method = methods[Math.floor(r() * methods.length)]!;
      const path = PATHS[Math.floor(r() * PATHS.length)]! + QUERIES[Math.floor(r() * QUERIES.length)]!;
      const ct = CONTENT_TYPES[Math.floor(r() * CONTENT_TYPES.length)]!;
      const body = method === 'GET' ? undefined : mutate(r, SEEDS[Math.floor(r() * SEEDS.length)]!);
      const headers: Record<string, string> = {};
      if (ct) headers['Content-Type'] = ct;
      if (r() < 0.2)
        headers.Accept = [
          'application/json;as=Table;v=v1;g=meta.k8s.io',
          'application/yaml',
          'image/png',
          'application/vnd.kubernetes.protobuf',
        ][Math.floor(r() * 4)]!;
      const a = await send(method, path, body, headers);
      codes.set(a.status, (codes.get(a.status) ?? 0) + 1);
      // Kubernetes answers a resourceVersion newer than anything it has with 504 Timeout ("Too large
      // resource version") after waiting for it: that is its documented answer, not a failure.
      const tooLarge = a.status === 504 && a.body.includes('Too large resource version');
      if (a.status >= 500 && !tooLarge)
        failures.push(`#${i} ${method} ${path} [${ct}] → ${a.status} ${a.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  process.stderr.write(
    `fuzz: status codes ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => a[0] - b[0])))}\n`,
  );
  // The mutations must reach the handlers, not only the router: successes and validation errors both occur.
  assert.ok((codes.get(201) ?? 0) + (codes.get(200) ?? 0) > 50, 'some requests succeed');
  assert.ok((codes.get(422) ?? 0) > 10, 'some requests reach validation');
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} requests got a 5xx`);
  const health = await send('GET', '/healthz');
  assert.equal(health.status, 200, 'the server is still up');
  // Oversized bodies are refused without being read whole.
  const big = await send(
    'POST',
    '/api/v1/namespaces/default/configmaps',
    Buffer.alloc(4 * 1024 * 1024, 'a'),
    { 'Content-Type': 'application/json' },
  );
  assert.equal(big.status, 413);
});

test("a create's and an update's answer is the object a GET then returns, in the format asked for", async () => {
  const json = { 'Content-Type': 'application/json' };
  // Its own namespace: the fuzzing above may have deleted default.
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'answers' } };
  const nsCreated = await send('POST', '/api/v1/namespaces', JSON.stringify(ns), json);
  assert.equal(nsCreated.status, 201, nsCreated.body);
  const path = '/api/v1/namespaces/answers/configmaps';
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'answer-cm' }, data: { a: '1' } };
  const created = await send('POST', path, JSON.stringify(cm), json);
  assert.equal(created.status, 201, created.body);
  const got = await send('GET', `${path}/answer-cm`);
  assert.deepEqual(JSON.parse(created.body), JSON.parse(got.body));
  const obj = JSON.parse(got.body) as { data: Record<string, string>; metadata: { resourceVersion: string } };
  obj.data.b = '2';
  const updated = await send('PUT', `${path}/answer-cm`, JSON.stringify(obj), json);
  assert.equal(updated.status, 200, updated.body);
  const after = await send('GET', `${path}/answer-cm`);
  assert.deepEqual(JSON.parse(updated.body), JSON.parse(after.body));
  assert.notEqual(JSON.parse(after.body).metadata.resourceVersion, obj.metadata.resourceVersion);
  // Other formats are still rendered from the object.
  const asTable = await send('POST', path, JSON.stringify({ ...cm, metadata: { name: 'answer-cm-2' } }), {
    ...json,
    Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
  });
  assert.equal(asTable.status, 201, asTable.body);
  assert.equal(JSON.parse(asTable.body).kind, 'Table');
  const asYaml = await send('POST', path, JSON.stringify({ ...cm, metadata: { name: 'answer-cm-3' } }), {
    ...json,
    Accept: 'application/yaml',
  });
  assert.equal(asYaml.status, 201, asYaml.body);
  assert.match(asYaml.body, /^apiVersion: v1\n/m);
  assert.match(asYaml.body, /name: answer-cm-3/);
});
