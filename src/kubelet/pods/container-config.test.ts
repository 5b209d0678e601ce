import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  LABEL_CONTAINER_NAME,
  LABEL_POD_UID,
} from '../contracts.ts';
import {
  ContainerConfigError,
  containerConfig,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
} from './container-config.ts';
import { containerHash } from './hash.ts';
import { testPod } from './testing.ts';

function config(
  c: Partial<Container>,
  podSpec: Partial<NonNullable<Pod['spec']>> = {},
  imageUser?: { uid?: number; username?: string },
) {
  const container: Container = { name: 'app', image: 'busybox', ...c };
  const pod = testPod({ containers: [container], ...podSpec });
  return containerConfig({
    pod,
    container,
    isInit: false,
    imageRef: 'sha256:img',
    imageUser,
    envs: [{ key: 'NAME', value: 'world' }],
    mounts: [{ containerPath: '/data', hostPath: '/var/lib/x' }],
    restartCount: 3,
    memoryCapacity: 8 * 1024 ** 3,
  });
}

test('command/args expansion, log path, labels and annotations', () => {
  const c = config({
    command: ['sh', '-c'],
    args: ['echo hello $(NAME)'],
    workingDir: '/w',
    tty: true,
    stdin: true,
  });
  assert.deepEqual(c.command, ['sh', '-c']);
  assert.deepEqual(c.args, ['echo hello world']);
  assert.equal(c.workingDir, '/w');
  assert.equal(c.logPath, 'app/3.log');
  assert.deepEqual(c.metadata, { name: 'app', attempt: 3 });
  assert.equal(c.image.image, 'sha256:img');
  assert.equal(c.tty, true);
  assert.equal(c.stdin, true);
  assert.equal(c.stdinOnce, false);
  assert.equal(c.labels?.[LABEL_CONTAINER_NAME], 'app');
  assert.equal(c.labels?.[LABEL_POD_UID], 'uid-1');
  assert.equal(c.annotations?.[ANNOTATION_RESTART_COUNT], '3');
  assert.equal(
    c.annotations?.[ANNOTATION_CONTAINER_HASH],
    containerHash({
      name: 'app',
      image: 'busybox',
      command: ['sh', '-c'],
      args: ['echo hello $(NAME)'],
      workingDir: '/w',
      tty: true,
      stdin: true,
    }),
  );
  assert.equal(c.annotations?.['io.kubernetes.container.terminationMessagePath'], '/dev/termination-log');
  assert.deepEqual(c.mounts, [{ containerPath: '/data', hostPath: '/var/lib/x' }]);
});

test('security context: run-as, capabilities, noNewPrivs, readonly rootfs, masked paths', () => {
  const c = config(
    {
      securityContext: {
        runAsUser: 1000,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      },
    },
    { securityContext: { runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000 } },
  );
  const sc = c.linux!.securityContext!;
  assert.deepEqual(sc.runAsUser, { value: 1000 });
  assert.deepEqual(sc.runAsGroup, { value: 3000 });
  assert.deepEqual(sc.supplementalGroups, [2000, 4000]);
  assert.equal(sc.readonlyRootfs, true);
  assert.equal(sc.noNewPrivs, true);
  assert.deepEqual(sc.capabilities, { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] });
  assert.deepEqual(sc.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(sc.readonlyPaths, DEFAULT_READONLY_PATHS);
  assert.deepEqual(sc.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  const priv = config({ securityContext: { privileged: true } }, { hostNetwork: true, hostPID: true }).linux!
    .securityContext!;
  assert.equal(priv.privileged, true);
  assert.equal(priv.maskedPaths, undefined);
  assert.deepEqual(priv.namespaceOptions, { network: 'NODE', pid: 'NODE', ipc: 'POD' });
});

test('runAsNonRoot: uid 0 known from the spec or the image is a CreateContainerConfigError', () => {
  assert.throws(
    () => config({ securityContext: { runAsNonRoot: true, runAsUser: 0 } }),
    (e: unknown) => {
      assert.ok(e instanceof ContainerConfigError);
      assert.equal(e.reason, 'CreateContainerConfigError');
      assert.match(e.message, /^container's runAsUser breaks non-root policy/);
      return true;
    },
  );
  assert.throws(
    () => config({}, { securityContext: { runAsNonRoot: true } }, { uid: 0 }),
    /image will run as root/,
  );
  assert.throws(
    () => config({}, { securityContext: { runAsNonRoot: true } }, { username: 'nobody' }),
    /non-numeric user \(nobody\)/,
  );
  assert.doesNotThrow(() => config({}, { securityContext: { runAsNonRoot: true } }, { uid: 65534 }));
  assert.doesNotThrow(() => config({ securityContext: { runAsNonRoot: true, runAsUser: 1000 } }));
});

test('resources reach the CRI config; oom_score_adj is never negative', () => {
  const c = config({
    resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
  });
  assert.deepEqual(c.linux?.resources, {
    cpuShares: 1024,
    cpuPeriod: 100000,
    cpuQuota: 100000,
    memoryLimitInBytes: 1024 ** 3,
    oomScoreAdj: 0,
  });
});
