/**
 * The VolumeManager's plugins on a temp root with a fake API: emptyDir (disk and a real tmpfs),
 * configMap / secret / downwardAPI / projected content, modes, items and optional sources, refresh,
 * hostPath types, claims, mounts (subPath, subPathExpr, readOnly, propagation), /etc/hosts, the
 * termination message file and tear-down. Needs root (tmpfs mounts).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { FakeRestClient } from '../../client/fake.ts';
import {
  CONFIG_MAPS,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  SECRETS,
  SERVICE_ACCOUNTS,
} from '../../client/resources.ts';
import type { KubeObject, ResourceRef } from '../../client/types.ts';
import { VolumeError } from '../contracts.ts';
import { ContainerConfigError } from '../env/errors.ts';
import { KubeletVolumeManager, readTerminationMessage } from './manager.ts';
import { isMountPoint, mountsUnder, unmount } from './mount.ts';
import { ObjectSource } from './sources.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A fake whose TokenRequests return a token naming the request. */
class TokenFake extends FakeRestClient {
  issued = 0;
  override async createSubresource<T = unknown>(
    ref: ResourceRef,
    ns: string,
    name: string,
    sub: string,
    body: unknown,
  ): Promise<T> {
    await super.createSubresource(ref, ns, name, sub, body);
    this.issued++;
    const spec = (body as { spec: { audiences: string[] | null; boundObjectRef: { name: string } } }).spec;
    return {
      status: {
        token: `token-${name}-${spec.boundObjectRef.name}-${spec.audiences?.[0] ?? ''}-${this.issued}`,
      },
    } as T;
  }
}

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'skiff-vol-'));
});
after(async () => {
  for (const m of await mountsUnder(tmp)) await unmount(m);
  rmSync(tmp, { recursive: true, force: true });
});

let seq = 0;
function podWith(
  volumes: Volume[],
  containers: Container[] = [{ name: 'c' }],
  extra: Partial<Pod['spec']> = {},
): Pod {
  seq++;
  return {
    metadata: {
      name: `p${seq}`,
      namespace: 'ns',
      uid: `uid-${seq}`,
      labels: { app: 'a' },
      annotations: { k: 'v' },
    },
    spec: { nodeName: 'n1', serviceAccountName: 'sa', containers, volumes, ...extra },
    status: { podIP: '10.42.0.7', podIPs: [{ ip: '10.42.0.7' }] },
  };
}

async function env() {
  const client = new TokenFake();
  await client.create(CONFIG_MAPS, 'ns', {
    metadata: { name: 'cm', namespace: 'ns' },
    data: { a: 'A', b: 'B' },
    binaryData: { bin: b64('\x00\x01') },
  });
  await client.create(SECRETS, 'ns', {
    metadata: { name: 's', namespace: 'ns' },
    data: { user: b64('admin'), pass: b64('pw') },
  });
  await client.create(SERVICE_ACCOUNTS, 'ns', { metadata: { name: 'sa', namespace: 'ns' } });
  const root = mkdtempSync(join(tmp, 'root-'));
  const vm = new KubeletVolumeManager({
    root,
    client,
    sources: new ObjectSource({ client, ttlMs: -1 }),
    nodeAllocatable: () => ({ cpu: '2', memory: '1Gi' }),
    nodeHostsFile: join(tmp, 'node-hosts'),
  });
  return { client, root, vm };
}
const mode = (p: string) => statSync(p).mode & 0o7777;
const read = (p: string) => readFileSync(p, 'utf8');

describe('KubeletVolumeManager', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup) await c();
    cleanup = [];
  });
  async function setUp(pod: Pod) {
    const e = await env();
    cleanup.push(() => e.vm.tearDown(pod.metadata!.uid!));
    return { ...e, paths: await e.vm.setUp(pod) };
  }

  it('emptyDir on disk and on a tmpfs with its sizeLimit; tearDown unmounts and removes', async () => {
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '2Mi' } },
    ]);
    const { vm, root, paths } = await setUp(pod);
    const disk = paths.get('scratch')!;
    const mem = paths.get('mem')!;
    assert.equal(disk, join(root, 'pods', pod.metadata!.uid!, 'volumes/kubernetes.io~empty-dir/scratch'));
    assert.equal(mode(disk), 0o777);
    assert.equal(await isMountPoint(disk), false);
    assert.equal(await isMountPoint(mem), true);
    const mi = read('/proc/self/mountinfo')
      .split('\n')
      .find((l) => l.split(' ')[4] === mem)!;
    assert.match(mi, /tmpfs/);
    assert.match(mi, /size=2048k/);
    writeFileSync(join(mem, 'f'), 'x');
    // setUp again (a kubelet restart) mounts nothing twice.
    await vm.setUp(pod);
    assert.equal((await mountsUnder(mem)).length, 1);
    assert.deepEqual(await vm.podsOnDisk(), [pod.metadata!.uid!]);
    await vm.tearDown(pod.metadata!.uid!);
    assert.equal(await isMountPoint(mem), false);
    assert.equal(existsSync(join(root, 'pods', pod.metadata!.uid!)), false);
    assert.deepEqual(await vm.podsOnDisk(), []);
    await vm.tearDown(pod.metadata!.uid!); // idempotent
  });

  it('memory-backed volumes are sized by the pod memory limit, else the node allocatable', async () => {
    const mountOpts = (dir: string) =>
      read('/proc/self/mountinfo')
        .split('\n')
        .find((l) => l.split(' ')[4] === dir);
    const limited = podWith(
      [
        { name: 'm', emptyDir: { medium: 'Memory' } },
        { name: 'big', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } },
      ],
      [{ name: 'c', resources: { limits: { memory: '8Mi' } } }],
    );
    const a = await setUp(limited);
    assert.match(mountOpts(a.paths.get('m')!) ?? '', /size=8192k/);
    assert.match(
      mountOpts(a.paths.get('big')!) ?? '',
      /size=8192k/,
      'a sizeLimit above the pod limit does not count',
    );
    const unlimited = podWith([{ name: 's', secret: { secretName: 's' } }]);
    const b = await setUp(unlimited);
    assert.match(mountOpts(b.paths.get('s')!) ?? '', /size=1048576k/, 'node allocatable (1Gi)');
  });

  it('configMap: every key with defaultMode 0644, binaryData, items with paths and modes, read-only mounts', async () => {
    const pod = podWith([
      { name: 'all', configMap: { name: 'cm' } },
      {
        name: 'some',
        configMap: {
          name: 'cm',
          defaultMode: 0o600,
          items: [
            { key: 'a', path: 'dir/x' },
            { key: 'b', path: 'y', mode: 0o400 },
          ],
        },
      },
    ]);
    const { paths, vm } = await setUp(pod);
    const all = paths.get('all')!;
    assert.match(all, /kubernetes\.io~configmap\/all$/);
    assert.equal(read(join(all, 'a')), 'A');
    assert.deepEqual(readFileSync(join(all, 'bin')), Buffer.from([0, 1]));
    assert.equal(mode(join(all, 'a')), 0o644);
    assert.equal(readlinkSync(join(all, 'a')), '..data/a');
    const some = paths.get('some')!;
    assert.equal(read(join(some, 'dir/x')), 'A');
    assert.equal(mode(join(some, 'dir/x')), 0o600);
    assert.equal(mode(join(some, 'y')), 0o400);
    assert.equal(existsSync(join(some, 'a')), false);
    const [m] = await vm.mountsFor(
      pod,
      { name: 'c', volumeMounts: [{ name: 'all', mountPath: '/etc/cfg' }] },
      paths,
    );
    assert.deepEqual(m, {
      containerPath: '/etc/cfg',
      hostPath: all,
      readonly: true,
      propagation: 'PROPAGATION_PRIVATE',
    });
  });

  it('secret on a tmpfs; missing sources and keys fail unless optional', async () => {
    const pod = podWith([{ name: 's', secret: { secretName: 's', items: [{ key: 'pass', path: 'p' }] } }]);
    const { paths } = await setUp(pod);
    const dir = paths.get('s')!;
    assert.match(dir, /kubernetes\.io~secret\/s$/);
    assert.equal(await isMountPoint(dir), true);
    assert.equal(read(join(dir, 'p')), 'pw');

    const cases: [Volume, string][] = [
      [
        { name: 'v', configMap: { name: 'nope' } },
        'MountVolume.SetUp failed for volume "v" : configmap "nope" not found',
      ],
      [
        { name: 'v', secret: { secretName: 'nope' } },
        'MountVolume.SetUp failed for volume "v" : secret "nope" not found',
      ],
      [
        { name: 'v', configMap: { name: 'cm', items: [{ key: 'zz', path: 'z' }] } },
        'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: zz',
      ],
      [
        { name: 'v', secret: { secretName: 's', items: [{ key: 'zz', path: 'z' }] } },
        'MountVolume.SetUp failed for volume "v" : references non-existent secret key: zz',
      ],
    ];
    for (const [vol, message] of cases) {
      const bad = podWith([vol]);
      const e = await env();
      cleanup.push(() => e.vm.tearDown(bad.metadata!.uid!));
      await assert.rejects(e.vm.setUp(bad), (err: unknown) => {
        assert.ok(err instanceof VolumeError);
        assert.equal(err.reason, 'FailedMount');
        assert.equal(err.message, message);
        return true;
      });
    }
    const opt = podWith([
      { name: 'a', configMap: { name: 'nope', optional: true } },
      { name: 'b', secret: { secretName: 'nope', optional: true } },
      {
        name: 'c',
        configMap: {
          name: 'cm',
          optional: true,
          items: [
            { key: 'zz', path: 'z' },
            { key: 'a', path: 'a' },
          ],
        },
      },
    ]);
    const o = await setUp(opt);
    assert.equal(existsSync(join(o.paths.get('a')!, '..data')), true);
    assert.deepEqual(
      ['..data', 'a'].map((f) => existsSync(join(o.paths.get('c')!, f))),
      [true, true],
    );
    assert.equal(existsSync(join(o.paths.get('c')!, 'z')), false);
  });

  it('refresh rewrites only when a source changed, through the ..data swap', async () => {
    const pod = podWith([{ name: 'cfg', configMap: { name: 'cm' } }]);
    const { paths, vm, client } = await setUp(pod);
    const dir = paths.get('cfg')!;
    const before = readlinkSync(join(dir, '..data'));
    await vm.refresh(pod);
    assert.equal(readlinkSync(join(dir, '..data')), before, 'unchanged: no new directory');
    await client.update(CONFIG_MAPS, 'ns', {
      metadata: { name: 'cm', namespace: 'ns' },
      data: { a: 'A2', c: 'C' },
    });
    await vm.refresh(pod);
    assert.notEqual(readlinkSync(join(dir, '..data')), before);
    assert.equal(read(join(dir, 'a')), 'A2');
    assert.equal(read(join(dir, 'c')), 'C');
    assert.equal(existsSync(join(dir, 'b')), false);
  });

  it('downwardAPI and projected (configMap, secret, downwardAPI, serviceAccountToken)', async () => {
    const pod = podWith(
      [
        {
          name: 'info',
          downwardAPI: {
            items: [
              { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
              { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
              { path: 'ann', fieldRef: { fieldPath: "metadata.annotations['k']" }, mode: 0o600 },
              {
                path: 'mem',
                resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' },
              },
            ],
          },
        },
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 0o640,
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'cm', items: [{ key: 'a', path: 'ca.crt' }] } },
              { secret: { name: 's', items: [{ key: 'user', path: 'user' }] } },
              {
                downwardAPI: {
                  items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
                },
              },
            ],
          },
        },
      ],
      [{ name: 'c' }],
    );
    const { paths, client, vm } = await setUp(pod);
    const info = paths.get('info')!;
    assert.match(info, /kubernetes\.io~downward-api\/info$/);
    assert.equal(read(join(info, 'name')), pod.metadata!.name);
    assert.equal(read(join(info, 'labels')), 'app="a"');
    assert.equal(read(join(info, 'ann')), 'v');
    assert.equal(mode(join(info, 'ann')), 0o600);
    assert.equal(read(join(info, 'mem')), '1024', 'no limit: node allocatable');
    const proj = paths.get('kube-api-access')!;
    assert.match(proj, /kubernetes\.io~projected\/kube-api-access$/);
    assert.equal(await isMountPoint(proj), true);
    assert.equal(read(join(proj, 'token')), `token-sa-${pod.metadata!.name}--1`);
    assert.equal(mode(join(proj, 'token')), 0o640);
    assert.equal(read(join(proj, 'ca.crt')), 'A');
    assert.equal(read(join(proj, 'user')), 'admin');
    assert.equal(read(join(proj, 'namespace')), 'ns');
    const req = client.calls.find((c) => c.verb === 'createSubresource')!;
    assert.equal(req.resource, 'serviceaccounts/token');
    assert.deepEqual((req.opts as { spec: unknown }).spec, {
      audiences: null,
      expirationSeconds: 3607,
      boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, uid: pod.metadata!.uid },
    });
    await vm.refresh(pod);
    assert.equal(client.issued, 1, 'the token is reused until 80% of its lifetime');
  });

  it('a TokenRequest failure is reported as such', async () => {
    const pod = podWith(
      [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
      [{ name: 'c' }],
      {
        serviceAccountName: 'missing',
      },
    );
    const e = await env();
    cleanup.push(() => e.vm.tearDown(pod.metadata!.uid!));
    await assert.rejects(
      e.vm.setUp(pod),
      /volume "t" : failed to fetch token: serviceaccounts "missing" not found/,
    );
  });

  it('hostPath types', async () => {
    const base = mkdtempSync(join(tmp, 'hp-'));
    writeFileSync(join(base, 'file'), '');
    const ok: Volume[] = [
      { name: 'a', hostPath: { path: join(base, 'made/dir'), type: 'DirectoryOrCreate' } },
      { name: 'b', hostPath: { path: join(base, 'newfile'), type: 'FileOrCreate' } },
      { name: 'c', hostPath: { path: base, type: 'Directory' } },
      { name: 'd', hostPath: { path: join(base, 'file'), type: 'File' } },
      { name: 'e', hostPath: { path: '/dev/null', type: 'CharDevice' } },
      { name: 'f', hostPath: { path: join(base, 'anything'), type: '' } },
      { name: 'g', hostPath: { path: join(base, 'anything') } },
    ];
    const { paths } = await setUp(podWith(ok));
    assert.equal(paths.get('a'), join(base, 'made/dir'));
    assert.equal(statSync(join(base, 'made/dir')).isDirectory(), true);
    assert.equal(mode(join(base, 'newfile')), 0o644);
    const bad: [Volume, string][] = [
      [
        { name: 'v', hostPath: { path: join(base, 'file'), type: 'Directory' } },
        `${join(base, 'file')} is not a directory`,
      ],
      [
        { name: 'v', hostPath: { path: join(base, 'missing'), type: 'Directory' } },
        `${join(base, 'missing')} is not a directory`,
      ],
      [{ name: 'v', hostPath: { path: base, type: 'File' } }, `${base} is not a file`],
      [{ name: 'v', hostPath: { path: base, type: 'Socket' } }, `${base} is not a socket file`],
      [{ name: 'v', hostPath: { path: base, type: 'BlockDevice' } }, `${base} is not a block device`],
      [{ name: 'v', hostPath: { path: '/dev/null', type: 'File' } }, '/dev/null is not a file'],
      [{ name: 'v', hostPath: { path: base, type: 'Weird' } }, 'Weird is an invalid volume type'],
    ];
    for (const [vol, msg] of bad) {
      const p = podWith([vol]);
      const e = await env();
      cleanup.push(() => e.vm.tearDown(p.metadata!.uid!));
      await assert.rejects(
        e.vm.setUp(p),
        (err: unknown) => err instanceof VolumeError && err.message.endsWith(msg),
      );
    }
    rmSync(base, { recursive: true });
  });

  it('persistentVolumeClaim: not bound until Bound, then the PV hostPath (made), read-only claims', async () => {
    const pod = podWith([{ name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } }]);
    const e = await env();
    cleanup.push(() => e.vm.tearDown(pod.metadata!.uid!));
    await assert.rejects(e.vm.setUp(pod), /persistentvolumeclaim "data" not found/);
    const pvc: KubeObject = await e.client.create(PERSISTENT_VOLUME_CLAIMS, 'ns', {
      metadata: { name: 'data', namespace: 'ns' },
      spec: {},
      status: { phase: 'Pending' },
    });
    await assert.rejects(e.vm.setUp(pod), /volume "data" : persistentvolumeclaim "data" not bound/);
    const path = join(tmp, 'storage', `pvc-x_ns_data`);
    await e.client.create(PERSISTENT_VOLUMES, '', {
      metadata: { name: 'pv1' },
      spec: {
        hostPath: { path, type: 'DirectoryOrCreate' },
        claimRef: { namespace: 'ns', name: 'data', uid: pvc.metadata.uid },
      },
    });
    await e.client.update(PERSISTENT_VOLUME_CLAIMS, 'ns', {
      ...pvc,
      spec: { volumeName: 'pv1' },
      status: { phase: 'Bound' },
    });
    const paths = await e.vm.setUp(pod);
    assert.equal(paths.get('data'), path);
    assert.equal(statSync(path).isDirectory(), true);
    assert.deepEqual([...e.vm.persistentVolumePathsInUse()], [path]);
    const [m] = await e.vm.mountsFor(
      pod,
      { name: 'c', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      paths,
    );
    assert.equal(m!.readonly, true);
    await e.vm.tearDown(pod.metadata!.uid!);
    assert.equal(existsSync(path), true, 'tearDown keeps persistent data');
    rmSync(join(tmp, 'storage'), { recursive: true });
  });

  it('mountsFor: subPath, subPathExpr, propagation, /etc/hosts and the termination message file', async () => {
    const container: Container = {
      name: 'c',
      env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      volumeMounts: [
        { name: 'work', mountPath: '/work', subPath: 'a/b' },
        { name: 'work', mountPath: '/mine', subPathExpr: 'logs/$(POD)', readOnly: true },
        { name: 'work', mountPath: '/shared', mountPropagation: 'HostToContainer' },
      ],
      terminationMessagePath: '/tmp/msg',
    };
    const pod = podWith([{ name: 'work', emptyDir: {} }], [container], {
      hostname: 'web',
      subdomain: 'svc',
      hostAliases: [{ ip: '1.2.3.4', hostnames: ['x', 'y'] }],
    });
    const { paths, vm, root } = await setUp(pod);
    const work = paths.get('work')!;
    const mounts = await vm.mountsFor(pod, container, paths, { podIPs: ['10.42.0.9'] });
    assert.deepEqual(mounts.slice(0, 3), [
      {
        containerPath: '/work',
        hostPath: join(work, 'a/b'),
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/mine',
        hostPath: join(work, `logs/${pod.metadata!.name}`),
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      },
      {
        containerPath: '/shared',
        hostPath: work,
        readonly: false,
        propagation: 'PROPAGATION_HOST_TO_CONTAINER',
      },
    ]);
    assert.equal(mode(join(work, 'a/b')), 0o777, 'made with the volume directory mode');
    const hosts = mounts[3]!;
    assert.deepEqual(hosts, {
      containerPath: '/etc/hosts',
      hostPath: join(root, 'pods', pod.metadata!.uid!, 'etc-hosts'),
      readonly: false,
      propagation: 'PROPAGATION_PRIVATE',
    });
    assert.equal(
      read(hosts.hostPath),
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.42.0.9\tweb.svc.ns.svc.cluster.local\tweb\n\n# Entries added by HostAliases.\n1.2.3.4\tx\ty\n',
    );
    const term = mounts[4]!;
    assert.equal(term.containerPath, '/tmp/msg');
    assert.match(
      term.hostPath,
      new RegExp(`^${join(root, 'pods', pod.metadata!.uid!, 'containers', 'c')}/[0-9a-f-]{36}$`),
    );
    assert.equal(mode(term.hostPath), 0o666);
    assert.equal(await readTerminationMessage(mounts, '/tmp/msg'), '');
    writeFileSync(term.hostPath, `${'x'.repeat(5000)}END`);
    const msg = await readTerminationMessage(mounts, '/tmp/msg');
    assert.equal(msg.length, 4096);
    assert.ok(msg.endsWith('END'));
    assert.equal(await readTerminationMessage(mounts, '/nope'), '');
    rmSync(term.hostPath);
    assert.equal(await readTerminationMessage(mounts, '/tmp/msg'), '');
    const second = await vm.mountsFor(pod, container, paths, { podIPs: ['10.42.0.9'] });
    assert.notEqual(second[4]!.hostPath, term.hostPath, 'a new file for each container instance');
    // No IP yet: no /etc/hosts; the default termination path.
    const noIp = await vm.mountsFor({ ...pod, status: {} }, { name: 'd' }, paths);
    assert.deepEqual(
      noIp.map((m) => m.containerPath),
      ['/dev/termination-log'],
    );
  });

  it('mountsFor rejects bad subPaths, missing variables and volumes, unprivileged Bidirectional', async () => {
    const pod = podWith([{ name: 'work', emptyDir: {} }]);
    const { paths, vm } = await setUp(pod);
    symlinkSync('/etc', join(paths.get('work')!, 'link'));
    const cases: [Container['volumeMounts'], RegExp][] = [
      [[{ name: 'work', mountPath: '/x', subPath: '../up' }], /must not contain '..'/],
      [[{ name: 'work', mountPath: '/x', subPath: '/abs' }], /must not be an absolute path/],
      [[{ name: 'work', mountPath: '/x', subPath: 'link' }], /not within volume path/],
      [[{ name: 'work', mountPath: '/x', subPathExpr: '$(NOPE)/$(EMPTY)' }], /missing value for EMPTY, NOPE/],
      [[{ name: 'gone', mountPath: '/x' }], /cannot find volume "gone" to mount into container "c"/],
      [
        [{ name: 'work', mountPath: '/x', mountPropagation: 'Bidirectional' }],
        /only to privileged containers/,
      ],
    ];
    for (const [volumeMounts, re] of cases) {
      await assert.rejects(
        vm.mountsFor(pod, { name: 'c', volumeMounts }, paths, { env: [{ key: 'EMPTY', value: '' }] }),
        (err: unknown) => err instanceof ContainerConfigError && re.test(err.message),
      );
    }
    const ok = await vm.mountsFor(
      pod,
      {
        name: 'c',
        securityContext: { privileged: true },
        volumeMounts: [{ name: 'work', mountPath: '/x', mountPropagation: 'Bidirectional' }],
      },
      paths,
    );
    assert.equal(ok[0]!.propagation, 'PROPAGATION_BIDIRECTIONAL');
  });

  it('host-network pods get the node hosts file', async () => {
    writeFileSync(join(tmp, 'node-hosts'), '127.0.0.1 node\n');
    const pod = podWith([], [{ name: 'c' }], { hostNetwork: true });
    const { paths, vm } = await setUp(pod);
    const m = await vm.mountsFor(pod, { name: 'c' }, paths, { podIPs: [] });
    assert.equal(read(m[0]!.hostPath), '# Kubernetes-managed hosts file (host network).\n127.0.0.1 node\n');
  });
});
