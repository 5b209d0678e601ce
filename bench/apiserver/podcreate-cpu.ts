/**
 * Microbenchmark of the API server's per-pod CPU in request parsing and pod validation, as the
 * scheduler benchmark (bench/scheduler/run.ts, SchedulingBasic) drives it: parseRequestInfo on the
 * bench's URLs, and on the stored bench pod (benchPodSpec('basic') after service account admission
 * and defaulting) validateObjectMeta, the pod strategy's validate, unknown-field detection, and
 * parseQuantity on its requests.
 *
 *   node_modules/.bin/node bench/apiserver/podcreate-cpu.ts [--baseline DIR] [--rounds 7] [--ms 200]
 *
 * With --baseline DIR (a checkout of an older revision, e.g. `git worktree add --detach /tmp/wt-b
 * HEAD && ln -s "$PWD/node_modules" /tmp/wt-b/node_modules`), the same functions are also loaded from
 * DIR and timed in the same run, rounds interleaved; results of both are checked to be equal first.
 * Prints the median ns per operation over the rounds (each round: as many calls as fit in --ms).
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FieldError } from '../../src/api/errors.ts';
import type { KubeObject } from '../../src/apiserver/object.ts';
import type { Strategy, WriteContext } from '../../src/apiserver/resource.ts';
import { benchPodSpec } from '../scheduler/objects.ts';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '200' },
  },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args.ms);

/** The functions under test, from one source tree. */
interface Impl {
  parseRequestInfo: (method: string, path: string, query: URLSearchParams) => unknown;
  validateObjectMeta: (
    meta: KubeObject['metadata'],
    rules: { namespaced: boolean; nameFn: unknown },
  ) => FieldError[];
  nameIsDNSSubdomain: unknown;
  podValidate: NonNullable<Strategy['validate']>;
  unknownBuiltinFields: (group: string, version: string, kind: string, obj: unknown) => string[] | null;
  parseQuantity: (s: string) => unknown;
  defaultPod: (pod: KubeObject) => void;
  defaultServiceAccountName: (pod: KubeObject) => void;
  mountServiceAccountToken: (pod: KubeObject, suffix?: () => string) => void;
}

async function load(root: string): Promise<Impl> {
  const src = (p: string) => import(resolve(root, 'src', p));
  const [ri, validation, pod, unknown, quantity, sa] = await Promise.all([
    src('apiserver/http/requestinfo.ts'),
    src('api/validation.ts'),
    src('apiserver/resources/core/pod.ts'),
    src('apiserver/openapi/unknown.ts'),
    src('api/quantity.ts'),
    src('apiserver/resources/core/serviceaccount-admission.ts'),
  ]);
  return {
    parseRequestInfo: ri.parseRequestInfo,
    validateObjectMeta: validation.validateObjectMeta,
    nameIsDNSSubdomain: validation.nameIsDNSSubdomain,
    podValidate: pod.podStrategy().validate,
    unknownBuiltinFields: unknown.unknownBuiltinFields,
    parseQuantity: quantity.parseQuantity,
    defaultPod: pod.defaultPod,
    defaultServiceAccountName: sa.defaultServiceAccountName,
    mountServiceAccountToken: sa.mountServiceAccountToken,
  };
}

/**
 * The bench's pod as the registry validates it: admitted (service account and its token volume,
 * default tolerations) and defaulted.
 */
function storedPod(impl: Impl): KubeObject {
  const { labels, spec } = benchPodSpec('basic');
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p-1',
      namespace: 'sched-bench',
      labels,
      uid: '6f1f3f0e-4a43-4b47-9d0c-0b5a4cbe1f11',
      creationTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: structuredClone(spec),
    status: { phase: 'Pending' },
  } as unknown as KubeObject;
  impl.defaultServiceAccountName(pod);
  impl.mountServiceAccountToken(pod, () => 'abcde');
  // DefaultTolerationSeconds admission.
  (pod.spec as { tolerations?: unknown }).tolerations = ['not-ready', 'unreachable'].map((t) => ({
    key: `node.kubernetes.io/${t}`,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 300,
  }));
  impl.defaultPod(pod);
  return pod;
}

const ctx: WriteContext = { namespace: 'sched-bench', user: 'admin', now: 0, subresource: '' };
const noQuery = new URLSearchParams();
const watchQuery = new URLSearchParams('watch=1&resourceVersion=123&allowWatchBookmarks=true');

/** One benchmark case: a call, built from an implementation. */
interface Case {
  name: string;
  make: (impl: Impl) => () => unknown;
}

const cases: Case[] = [
  {
    name: 'parseRequestInfo POST .../pods',
    make: (i) => () => i.parseRequestInfo('POST', '/api/v1/namespaces/sched-bench/pods', noQuery),
  },
  {
    name: 'parseRequestInfo POST .../pods/p-1/binding',
    make: (i) => () => i.parseRequestInfo('POST', '/api/v1/namespaces/sched-bench/pods/p-1/binding', noQuery),
  },
  {
    name: 'parseRequestInfo GET .../pods?watch=1',
    make: (i) => () => i.parseRequestInfo('GET', '/api/v1/namespaces/sched-bench/pods', watchQuery),
  },
  {
    name: 'validateObjectMeta (pod)',
    make: (i) => {
      const pod = storedPod(i);
      const rules = { namespaced: true, nameFn: i.nameIsDNSSubdomain };
      return () => i.validateObjectMeta(pod.metadata, rules);
    },
  },
  {
    name: 'pod strategy validate (shape + spec)',
    make: (i) => {
      const pod = storedPod(i);
      return () => i.podValidate(pod, ctx);
    },
  },
  {
    name: 'unknownBuiltinFields (pod)',
    make: (i) => {
      const pod = storedPod(i);
      return () => i.unknownBuiltinFields('', 'v1', 'Pod', pod);
    },
  },
  {
    name: 'parseQuantity 100m + 128Mi',
    make: (i) => () => [i.parseQuantity('100m'), i.parseQuantity('128Mi')],
  },
];

/** ns per call over one round of about ROUND_MS. */
function round(fn: () => unknown): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ROUND_MS * 1e6);
  let now = start;
  while (now < deadline) {
    for (let k = 0; k < 100; k++) fn();
    n += 100;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Results compared between implementations: class instances (errors, quantities) as strings, the rest as JSON. */
function comparable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(comparable);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) !== Object.prototype) return String(v);
  return JSON.parse(JSON.stringify(v ?? null));
}

const here = resolve(import.meta.dirname, '../..');
const impls: [string, Impl][] = [['new', await load(here)]];
if (args.baseline) impls.unshift(['old', await load(resolve(args.baseline))]);

const fns = cases.map((c) => impls.map(([, impl]) => c.make(impl)));
for (const [k, c] of cases.entries()) {
  const outs = (fns[k] as (() => unknown)[]).map((f) => comparable(f()));
  for (const out of outs.slice(1)) assert.deepEqual(out, outs[0], `${c.name}: implementations disagree`);
}

const times = cases.map(() => impls.map((): number[] => []));
for (let r = 0; r < ROUNDS; r++) {
  for (const [k] of cases.entries()) {
    for (const [j] of impls.entries()) times[k]?.[j]?.push(round(fns[k]?.[j] as () => unknown));
  }
}

console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms, median ns/op`);
console.log(
  `| case | ${impls.map(([n]) => n).join(' | ')} |${impls.length > 1 ? ' new/old |' : ''}\n|---|${impls.map(() => '---:|').join('')}${impls.length > 1 ? '---:|' : ''}`,
);
for (const [k, c] of cases.entries()) {
  const meds = impls.map((_, j) => median(times[k]?.[j] ?? []));
  const ratio = meds.length > 1 ? ` ${((meds[1] as number) / (meds[0] as number)).toFixed(2)} |` : '';
  console.log(`| ${c.name} | ${meds.map((m) => m.toFixed(0)).join(' | ')} |${ratio}`);
}
