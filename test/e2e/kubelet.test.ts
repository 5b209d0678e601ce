/**
 * The kubelet end to end: `skiff server` with its node agent runs real pods on containerd, and real
 * kubectl sees them behave as on Kubernetes (issue 5's user stories). One cluster serves the whole
 * file; each test uses its own namespace.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerdPaths } from '../../src/kubelet/runtime/config.ts';
import { BUSYBOX, TestCluster } from '../helpers/cluster.ts';

const CAN_RUN = process.getuid?.() === 0 && existsSync('/usr/bin/containerd') && existsSync('/usr/sbin/runc');
const skip = CAN_RUN ? false : 'needs root, containerd and runc (scripts/setup.sh installs them)';

interface Pod {
  metadata: { name: string; uid: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}
interface ContainerStatus {
  name: string;
  restartCount: number;
  ready: boolean;
  containerID?: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: { reason?: string; exitCode?: number; startedAt?: string; finishedAt?: string };
  };
  lastState?: {
    terminated?: { reason?: string; exitCode?: number; startedAt?: string; finishedAt?: string };
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

describe('kubelet on containerd', { skip, timeout: 15 * 60_000 }, () => {
  let cluster: TestCluster;
  const hostDir = mkdtempSync(join(tmpdir(), 'skiff-kubelet-e2e-'));

  const pod = async (ns: string, name: string): Promise<Pod> =>
    JSON.parse(await cluster.kubectlOk(['get', 'pod', '-n', ns, name, '-o', 'json'])) as Pod;
  const status = async (ns: string, name: string, container: string): Promise<ContainerStatus | undefined> =>
    (await pod(ns, name)).status?.containerStatuses?.find((c) => c.name === container);
  const apply = (yaml: string) => cluster.kubectlOk(['apply', '-f', '-'], { input: yaml });
  const namespace = async (ns: string) => {
    await cluster.kubectlOk(['create', 'namespace', ns]);
    await until(`the default service account in ${ns}`, async () =>
      (await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', ns])).code === 0 ? true : undefined,
    );
  };
  const running = (ns: string, name: string, timeoutMs = 60_000) =>
    until(
      `pod ${ns}/${name} Running`,
      async () => {
        const p = await pod(ns, name);
        return p.status?.phase === 'Running' ? p : undefined;
      },
      timeoutMs,
    );

  before(async () => {
    cluster = await TestCluster.startWithNode({ bridge: 'skiffe2e0', clusterCidr: '10.77.0.0/16' });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(hostDir, { recursive: true, force: true });
  });

  test('the node registers Ready with the host capacity and the runtime', async () => {
    const node = JSON.parse(await cluster.kubectlOk(['get', 'nodes', '-o', 'json'])).items[0];
    assert.equal(node.status.allocatable.pods, '110');
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
    assert.ok(node.spec.podCIDR.startsWith('10.77.'));
    const types = node.status.conditions.map((c: { type: string }) => c.type).sort();
    assert.deepEqual(types, ['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    const lease = await cluster.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', node.metadata.name]);
    assert.match(lease, new RegExp(node.metadata.name));
  });

  test('a Deployment of busybox pods serves HTTP on its pod IPs', async () => {
    await namespace('web');
    await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: ${BUSYBOX}
        command: [sh, -c, 'mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`);
    await cluster.kubectlOk(['rollout', 'status', 'deployment/web', '-n', 'web', '--timeout=90s']);
    const pods = JSON.parse(await cluster.kubectlOk(['get', 'pods', '-n', 'web', '-o', 'json']))
      .items as Pod[];
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.ok(p.status?.podIP?.startsWith('10.77.'), `pod IP ${p.status?.podIP} is in the node's podCIDR`);
      const body = await until(`HTTP from ${p.status?.podIP}`, async () => {
        const res = await fetch(`http://${p.status?.podIP}:8080/`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? res.text() : undefined;
      });
      assert.equal(body.trim(), `hello from ${p.metadata.name}`);
    }
  });

  test('a Service routes to the ready pods by ClusterIP and NodePort (kube-proxy)', async () => {
    await apply(`
apiVersion: v1
kind: Service
metadata: {name: web, namespace: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`);
    const svc = JSON.parse(await cluster.kubectlOk(['get', 'service', 'web', '-n', 'web', '-o', 'json']));
    const node = JSON.parse(await cluster.kubectlOk(['get', 'nodes', '-o', 'json'])).items[0];
    const nodeIP = node.status.addresses.find((a: { type: string }) => a.type === 'InternalIP').address;
    const seen = new Set<string>();
    await until('both pods answering through the ClusterIP', async () => {
      const res = await fetch(`http://${svc.spec.clusterIP}/`, { signal: AbortSignal.timeout(2000) });
      seen.add((await res.text()).trim());
      return seen.size === 2 ? true : undefined;
    });
    const body = await until('an answer through the NodePort', async () => {
      const res = await fetch(`http://${nodeIP}:${svc.spec.ports[0].nodePort}/`, {
        signal: AbortSignal.timeout(2000),
      });
      return res.ok ? res.text() : undefined;
    });
    assert.match(body, /^hello from web-/);
  });

  test('init containers run first, in order; volumes, env and downward API carry the right content', async () => {
    await namespace('cfg');
    await apply(`
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: cfg}
data: {greeting: hello, color: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: cfg}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: cfg, labels: {tier: backend}}
spec:
  initContainers:
  - {name: first, image: ${BUSYBOX}, command: [sh, -c, 'echo first >> /work/order'], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: second, image: ${BUSYBOX}, command: [sh, -c, 'echo second >> /work/order'], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - name: main
    image: ${BUSYBOX}
    command: [sh, -c, 'echo main >> /work/order; exec sleep 3600']
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MESSAGE, value: '$(GREETING) from $(POD_NAME)'}
    envFrom: [{prefix: CFG_, configMapRef: {name: settings}}]
    volumeMounts:
    - {name: work, mountPath: /work}
    - {name: config, mountPath: /etc/config}
    - {name: secret, mountPath: /etc/secret}
    - {name: info, mountPath: /etc/info}
    resources: {limits: {memory: 64Mi, cpu: 200m}}
  volumes:
  - {name: work, emptyDir: {}}
  - {name: config, configMap: {name: settings}}
  - {name: secret, secret: {secretName: creds}}
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: mem, resourceFieldRef: {containerName: main, resource: limits.memory, divisor: 1Mi}}
`);
    const p = await running('cfg', 'app');
    assert.deepEqual(
      p.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason]),
      [
        ['first', 'Completed'],
        ['second', 'Completed'],
      ],
    );
    const exec = (cmd: string) => cluster.kubectlOk(['exec', '-n', 'cfg', 'app', '--', 'sh', '-c', cmd]);
    assert.equal(
      await until('main to write', async () =>
        (await exec('cat /work/order')).includes('main') ? exec('cat /work/order') : undefined,
      ),
      'first\nsecond\nmain\n',
    );
    const env = await exec('env');
    assert.match(env, /^GREETING=hello$/m);
    assert.match(env, /^PASSWORD=s3cret$/m);
    assert.match(env, /^MESSAGE=hello from app$/m);
    assert.match(env, /^CFG_color=blue$/m);
    assert.match(env, /^KUBERNETES_SERVICE_HOST=/m);
    assert.equal(await exec('cat /etc/config/greeting'), 'hello');
    assert.equal(await exec('cat /etc/secret/password'), 's3cret');
    assert.equal(await exec('cat /etc/info/labels'), 'tier="backend"');
    assert.equal(await exec('cat /etc/info/mem'), '64');
    // QoS as Kubernetes computes it: requests default to the limits, but the init containers have
    // neither, so the pod is Burstable (Guaranteed needs cpu and memory limits on every container).
    const qos = JSON.parse(await cluster.kubectlOk(['get', 'pod', '-n', 'cfg', 'app', '-o', 'json'])).status
      .qosClass;
    assert.equal(qos, 'Burstable');

    // An edited ConfigMap reaches the mounted volume.
    await cluster.kubectlOk([
      'patch',
      'configmap',
      'settings',
      '-n',
      'cfg',
      '-p',
      '{"data":{"greeting":"bonjour"}}',
    ]);
    await until(
      'the configMap edit in the volume',
      async () => ((await exec('cat /etc/config/greeting')) === 'bonjour' ? true : undefined),
      90_000,
    );
  });

  test('a crashing container reaches CrashLoopBackOff with doubling back-off', async () => {
    await namespace('crash');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: crasher, namespace: crash}
spec:
  containers: [{name: c, image: ${BUSYBOX}, command: [sh, -c, 'echo boom; exit 3']}]
`);
    const s = await until(
      'two restarts and CrashLoopBackOff',
      async () => {
        const st = await status('crash', 'crasher', 'c');
        return st && st.restartCount >= 2 && st.state?.waiting?.reason === 'CrashLoopBackOff'
          ? st
          : undefined;
      },
      120_000,
    );
    assert.equal(s.lastState?.terminated?.exitCode, 3);
    assert.equal(s.lastState?.terminated?.reason, 'Error');
    assert.match(
      s.state?.waiting?.message ?? '',
      /^back-off (20s|40s) restarting failed container=c pod=crasher_crash\(/,
    );
    const logs = await cluster.kubectlOk(['logs', '-n', 'crash', 'crasher', '--previous']);
    assert.equal(logs, 'boom\n');
    const events = await cluster.kubectlOk([
      'get',
      'events',
      '-n',
      'crash',
      '-o',
      'jsonpath={.items[*].reason}',
    ]);
    assert.match(events, /BackOff/);
  });

  test('a failing liveness probe restarts its container; readiness gates Ready', async () => {
    await namespace('probes');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: live, namespace: probes}
spec:
  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sh, -c, 'touch /tmp/healthy; sleep 4; rm /tmp/healthy; exec sleep 3600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: ready, namespace: probes}
spec:
  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sleep, '3600']
    readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1}
`);
    await until(
      'a liveness restart',
      async () => ((await status('probes', 'live', 'c'))?.restartCount ?? 0) >= 1 || undefined,
      90_000,
    );
    const events = await cluster.kubectlOk([
      'get',
      'events',
      '-n',
      'probes',
      '--field-selector',
      'involvedObject.name=live',
      '-o',
      'json',
    ]);
    assert.match(events, /Liveness probe failed/);
    assert.match(events, /failed liveness probe, will be restarted/);

    await running('probes', 'ready');
    const readyCond = async () =>
      (await pod('probes', 'ready')).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await readyCond(), 'False');
    assert.equal((await status('probes', 'ready', 'c'))?.ready, false);
    await cluster.kubectlOk(['exec', '-n', 'probes', 'ready', '--', 'touch', '/tmp/ready']);
    await until('Ready=True', async () => ((await readyCond()) === 'True' ? true : undefined), 30_000);
  });

  test('a memory limit OOM-kills with reason OOMKilled', async () => {
    await namespace('oom');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: hog, namespace: oom}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sh, -c, 'tail /dev/zero']
    resources: {limits: {memory: 16Mi}}
`);
    const s = await until(
      'the OOM kill',
      async () => {
        const st = await status('oom', 'hog', 'c');
        return st?.state?.terminated ? st : undefined;
      },
      90_000,
    );
    assert.equal(s.state?.terminated?.reason, 'OOMKilled');
    assert.equal(s.state?.terminated?.exitCode, 137);
    assert.equal((await pod('oom', 'hog')).status?.phase, 'Failed');
  });

  test('graceful termination runs preStop, sends SIGTERM and honours the grace period', async () => {
    await namespace('grace');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: polite, namespace: grace}
spec:
  terminationGracePeriodSeconds: 4
  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sh, -c, 'trap "echo TERM >> /host/log" TERM; echo started >> /host/log; while true; do sleep 0.2; done']
    lifecycle: {preStop: {exec: {command: [sh, -c, 'echo prestop >> /host/log']}}}
    volumeMounts: [{name: host, mountPath: /host}]
  volumes: [{name: host, hostPath: {path: ${hostDir}, type: Directory}}]
`);
    await running('grace', 'polite');
    const t0 = Date.now();
    await cluster.kubectlOk(['delete', 'pod', '-n', 'grace', 'polite', '--wait=true', '--timeout=60s']);
    const took = Date.now() - t0;
    assert.deepEqual(readFileSync(join(hostDir, 'log'), 'utf8').trim().split('\n'), [
      'started',
      'prestop',
      'TERM',
    ]);
    // The trap keeps the shell alive: only SIGKILL at the end of the 4 s grace period stops it.
    assert.ok(took >= 3500, `deletion took ${took} ms, less than the grace period`);
    assert.ok(took < 20_000, `deletion took ${took} ms`);
  });

  test('a container killed behind the kubelet’s back is restarted and its restartCount grows', async () => {
    await namespace('killed');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: victim, namespace: killed}
spec:
  containers: [{name: c, image: ${BUSYBOX}, command: [sleep, '3600']}]
`);
    await running('killed', 'victim');
    const before = await status('killed', 'victim', 'c');
    const pid = (
      await cluster.kubectlOk(['exec', '-n', 'killed', 'victim', '--', 'cat', '/proc/1/stat'])
    ).split(' ')[0];
    assert.equal(pid, '1');
    // Kill the container's main process from the host: find it through the container's cgroup.
    const hostPid = await hostPidOf(before?.containerID ?? '');
    process.kill(hostPid, 'SIGKILL');
    const after = await until(
      'the restart',
      async () => {
        const st = await status('killed', 'victim', 'c');
        return st && st.restartCount === (before?.restartCount ?? 0) + 1 && st.state?.running
          ? st
          : undefined;
      },
      60_000,
    );
    assert.equal(after.lastState?.terminated?.exitCode, 137);
    assert.notEqual(after.containerID, before?.containerID);
  });

  test('restarting skiff server re-adopts running pods without restarting their containers', async () => {
    await namespace('adopt');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: steady, namespace: adopt}
spec:
  containers: [{name: c, image: ${BUSYBOX}, command: [sleep, '3600']}]
`);
    await running('adopt', 'steady');
    const before = await status('adopt', 'steady', 'c');
    cluster = await cluster.restart();
    await cluster.waitNodeReady();
    // Give the kubelet a few sync periods to (wrongly) restart anything.
    await new Promise((r) => setTimeout(r, 5000));
    const after = await status('adopt', 'steady', 'c');
    assert.equal(after?.containerID, before?.containerID);
    assert.equal(after?.restartCount, before?.restartCount);
    assert.equal(after?.state?.running?.startedAt, before?.state?.running?.startedAt);
    assert.equal(
      await cluster.kubectlOk(['exec', '-n', 'adopt', 'steady', '--', 'echo', 'still here']),
      'still here\n',
    );
  });

  test('logs, exec, cp and port-forward work through the API server with kubectl 1.35 and 1.32', async () => {
    await namespace('stream');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: box, namespace: stream}
spec:
  containers:
  - name: c
    image: ${BUSYBOX}
    command: [sh, -c, 'echo line1; echo line2; mkdir -p /www; echo forwarded > /www/index.html; exec httpd -f -p 8080 -h /www']
`);
    await running('stream', 'box');
    for (const version of ['1.35', '1.32'] as const) {
      const logs = await until('logs', async () => {
        const out = await cluster.kubectlOk(['logs', '-n', 'stream', 'box'], { version });
        return out.includes('line2') ? out : undefined;
      });
      assert.equal(logs, 'line1\nline2\n');
      assert.equal(
        await cluster.kubectlOk(['logs', '-n', 'stream', 'box', '--tail=1'], { version }),
        'line2\n',
      );
      const r = await cluster.kubectl(['exec', '-n', 'stream', 'box', '--', 'sh', '-c', 'exit 7'], {
        version,
      });
      assert.equal(r.code, 7, `exec exit code carried back (${version}): ${r.stderr}`);
      const echoed = await cluster.kubectlOk(['exec', '-i', '-n', 'stream', 'box', '--', 'cat'], {
        version,
        input: 'via stdin\n',
      });
      assert.equal(echoed, 'via stdin\n');
      // cp both ways.
      const local = join(hostDir, `cp-${version}`);
      await cluster.kubectlOk(['cp', '-n', 'stream', 'box:/www/index.html', local], { version });
      assert.equal(readFileSync(local, 'utf8'), 'forwarded\n');
      await cluster.kubectlOk(['cp', '-n', 'stream', local, `box:/tmp/copied-${version}`], { version });
      assert.equal(
        await cluster.kubectlOk(['exec', '-n', 'stream', 'box', '--', 'cat', `/tmp/copied-${version}`], {
          version,
        }),
        'forwarded\n',
      );
    }
    for (const version of ['1.35', '1.32'] as const) {
      const { port, stop } = await cluster.portForward(['-n', 'stream', 'pod/box', ':8080'], version);
      try {
        const body = await until(
          'a response through port-forward',
          async () => {
            const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
            return res.ok ? res.text() : undefined;
          },
          20_000,
        );
        assert.equal(body, 'forwarded\n');
      } finally {
        stop();
      }
    }
  });

  test('a pod that uses a PersistentVolumeClaim keeps its data across pod recreation', async () => {
    await namespace('pvc');
    const podYaml = (cmd: string) => `
apiVersion: v1
kind: Pod
metadata: {name: writer, namespace: pvc}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: ${BUSYBOX}, command: [sh, -c, '${cmd}'], volumeMounts: [{name: data, mountPath: /data}]}
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
`;
    await apply(`
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: pvc}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
`);
    await apply(podYaml('echo kept > /data/file'));
    await until(
      'the writer to finish',
      async () => ((await pod('pvc', 'writer')).status?.phase === 'Succeeded' ? true : undefined),
      90_000,
    );
    const pvc = JSON.parse(await cluster.kubectlOk(['get', 'pvc', '-n', 'pvc', 'data', '-o', 'json']));
    assert.equal(pvc.status.phase, 'Bound');
    assert.equal(pvc.spec.storageClassName, 'local-path');
    await cluster.kubectlOk(['delete', 'pod', '-n', 'pvc', 'writer', '--wait=true']);
    await apply(podYaml('cat /data/file'));
    await until(
      'the reader to finish',
      async () => ((await pod('pvc', 'writer')).status?.phase === 'Succeeded' ? true : undefined),
      90_000,
    );
    assert.equal(await cluster.kubectlOk(['logs', '-n', 'pvc', 'writer']), 'kept\n');
  });

  test('after containerd and every shim are killed, the pods come back', async () => {
    await namespace('reboot');
    await apply(`
apiVersion: v1
kind: Pod
metadata: {name: survivor, namespace: reboot}
spec:
  containers: [{name: c, image: ${BUSYBOX}, command: [sleep, '3600']}]
`);
    await running('reboot', 'survivor');
    const before = await status('reboot', 'survivor', 'c');
    const killed = killRuntime(cluster.dataDir);
    assert.ok(killed > 1, 'containerd and at least one shim were killed');
    const after = await until(
      'the pod to run again',
      async () => {
        const st = await status('reboot', 'survivor', 'c');
        return st?.state?.running && st.containerID !== before?.containerID ? st : undefined;
      },
      120_000,
    );
    assert.ok(after.restartCount >= 1);
    await running('reboot', 'survivor');
  });
});

/** The host PID of a container's main process, from its cgroup (cgroupfs: the id is the leaf). */
async function hostPidOf(containerID: string): Promise<number> {
  const id = containerID.replace(/^containerd:\/\//, '');
  assert.ok(id, 'the container has an ID');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The container's init: in the container's cgroup, and its parent is the shim (not in it).
      if (!cgroup.includes(id)) continue;
      const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      const parentCgroup = readFileSync(`/proc/${ppid}/cgroup`, 'utf8');
      if (!parentCgroup.includes(id)) return Number(entry);
    } catch {
      // the process went away
    }
  }
  throw new Error(`no process found for container ${id}`);
}

/** Kills this node's containerd and its shims (found by their `-address` socket), as a crude reboot. */
function killRuntime(dataDir: string): number {
  const paths = containerdPaths(dataDir);
  const containerdPid = Number(readFileSync(paths.pidFile, 'utf8').trim());
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(paths.socket)) {
        process.kill(Number(entry), 'SIGKILL');
        n++;
      }
    } catch {
      // gone
    }
  }
  process.kill(containerdPid, 'SIGKILL');
  return n + 1;
}
