/** The ServiceAccount admission plugin on pods. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import {
  admitPod,
  defaultServiceAccountName,
  type ServiceAccountLookup,
  tokenVolumeSource,
} from './serviceaccount-admission.ts';

type Obj = Record<string, unknown>;

const MOUNT = {
  name: 'kube-api-access-bcd24',
  readOnly: true,
  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
};
const opts = { randomSuffix: () => 'bcd24', retryIntervalMs: () => 1 };

function pod(spec: Obj, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

function accounts(list: Record<string, Obj>): ServiceAccountLookup & { calls: number } {
  const fn = Object.assign(
    async (ns: string, name: string) => {
      fn.calls++;
      const sa = list[`${ns}/${name}`];
      return sa ? ({ metadata: { name, namespace: ns, uid: 'u' }, ...sa } as KubeObject) : null;
    },
    { calls: 0 },
  );
  return fn;
}

const spec = (p: KubeObject) =>
  p.spec as Obj & { containers: Obj[]; initContainers?: Obj[]; volumes?: Obj[] };

describe('ServiceAccount admission', () => {
  it('defaults the service account to default and mounts kube-api-access in every container', async () => {
    const p = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
    await admitPod(p, accounts({ 'ns/default': {} }), opts);
    const s = spec(p);
    assert.equal(s.serviceAccountName, 'default');
    assert.equal(s.serviceAccount, 'default');
    assert.deepEqual(s.containers[0]!.volumeMounts, [MOUNT]);
    assert.deepEqual(s.initContainers![0]!.volumeMounts, [MOUNT]);
    assert.deepEqual(s.volumes, [{ name: 'kube-api-access-bcd24', projected: tokenVolumeSource() }]);
    assert.deepEqual(tokenVolumeSource(), {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    });
  });

  it('generates a random five-character suffix by default', async () => {
    const p = pod({});
    await admitPod(p, accounts({ 'ns/default': {} }), { retryIntervalMs: () => 1 });
    assert.match(String(spec(p).volumes![0]!.name), /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('honours automountServiceAccountToken: false on the pod or the account (the pod wins)', async () => {
    const off = pod({ serviceAccountName: 'robot', automountServiceAccountToken: false });
    await admitPod(off, accounts({ 'ns/robot': {} }), opts);
    assert.equal(spec(off).volumes, undefined);
    assert.equal(spec(off).containers[0]!.volumeMounts, undefined);

    const saOff = pod({ serviceAccountName: 'robot' });
    await admitPod(saOff, accounts({ 'ns/robot': { automountServiceAccountToken: false } }), opts);
    assert.equal(spec(saOff).volumes, undefined);

    const podOn = pod({ serviceAccountName: 'robot', automountServiceAccountToken: true });
    await admitPod(podOn, accounts({ 'ns/robot': { automountServiceAccountToken: false } }), opts);
    assert.equal(spec(podOn).volumes!.length, 1);
  });

  it('leaves containers that mount something at the token path alone', async () => {
    const own = { name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
    const p = pod({
      containers: [
        { name: 'a', image: 'x', volumeMounts: [own] },
        { name: 'b', image: 'x' },
      ],
      volumes: [{ name: 'mine', emptyDir: {} }],
    });
    await admitPod(p, accounts({ 'ns/default': {} }), opts);
    assert.deepEqual(spec(p).containers[0]!.volumeMounts, [own]);
    assert.deepEqual(spec(p).containers[1]!.volumeMounts, [MOUNT]);
    assert.equal(spec(p).volumes!.length, 2);

    const all = pod({
      containers: [{ name: 'a', image: 'x', volumeMounts: [own] }],
      volumes: [{ name: 'mine', emptyDir: {} }],
    });
    await admitPod(all, accounts({ 'ns/default': {} }), opts);
    assert.deepEqual(spec(all).volumes, [{ name: 'mine', emptyDir: {} }], 'no container needs the volume');
  });

  it('reuses a kube-api-access-* volume the pod already has', async () => {
    const p = pod({ volumes: [{ name: 'kube-api-access-zzzzz', projected: tokenVolumeSource() }] });
    await admitPod(p, accounts({ 'ns/default': {} }), opts);
    assert.equal(spec(p).volumes!.length, 1);
    assert.equal(
      spec(p).containers[0]!.volumeMounts && (spec(p).containers[0]!.volumeMounts as Obj[])[0]!.name,
      'kube-api-access-zzzzz',
    );
  });

  it('refuses pods whose service account does not exist, after retrying default', async () => {
    const none = accounts({});
    const err = await admitPod(pod({}), none, opts).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 403);
    assert.equal(
      err.message,
      'pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found',
    );
    assert.equal(none.calls, 10);
    const robot = accounts({});
    await assert.rejects(
      admitPod(pod({ serviceAccountName: 'robot' }), robot, opts),
      /serviceaccount "robot" not found/,
    );
    assert.equal(robot.calls, 1, 'other accounts are looked up once');
  });

  it("copies the account's image pull secrets unless the pod has its own", async () => {
    const sa = { 'ns/default': { imagePullSecrets: [{ name: 'reg' }] } };
    const p = pod({});
    await admitPod(p, accounts(sa), opts);
    assert.deepEqual(spec(p).imagePullSecrets, [{ name: 'reg' }]);
    const own = pod({ imagePullSecrets: [{ name: 'mine' }] });
    await admitPod(own, accounts(sa), opts);
    assert.deepEqual(spec(own).imagePullSecrets, [{ name: 'mine' }]);
  });

  it('leaves mirror pods alone and refuses them a service account', async () => {
    const mirror = { 'kubernetes.io/config.mirror': 'abc' };
    const p = pod({}, mirror);
    defaultServiceAccountName(p);
    await admitPod(p, accounts({}), opts);
    assert.equal(spec(p).serviceAccountName, undefined);
    assert.equal(spec(p).volumes, undefined);
    await assert.rejects(
      admitPod(pod({ serviceAccountName: 'x' }, mirror), accounts({}), opts),
      /a mirror pod may not reference service accounts/,
    );
  });
});
