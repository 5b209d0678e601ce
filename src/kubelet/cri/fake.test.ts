import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import { CriError, GrpcCode, isNotFound } from './errors.ts';
import { FakeRuntime } from './fake.ts';
import type { ContainerConfig, PodSandboxConfig } from './types.ts';

const sandboxConfig = (name = 'web', uid = 'uid-1'): PodSandboxConfig => ({
  metadata: { name, namespace: 'default', uid, attempt: 0 },
  logDirectory: `/var/log/pods/default_${name}_${uid}`,
  labels: { app: name },
});

const containerConfig = (name = 'main', attempt = 0): ContainerConfig => ({
  metadata: { name, attempt },
  image: { image: 'busybox' },
  command: ['sleep', '3600'],
  labels: { 'io.kubernetes.container.name': name },
  logPath: `${name}/${attempt}.log`,
});

async function running(rt: FakeRuntime, name = 'main') {
  const sb = await rt.runPodSandbox(sandboxConfig());
  const id = await rt.createContainer(sb, containerConfig(name), sandboxConfig());
  await rt.startContainer(id);
  return { sb, id };
}

describe('FakeRuntime', () => {
  it('runs a sandbox and a container through their states, with clock timestamps', async () => {
    const clock = new FakeClock(1_000);
    const rt = new FakeRuntime({ clock, images: ['busybox:latest'] });
    const sb = await rt.runPodSandbox(sandboxConfig());
    assert.match(sb, /^[0-9a-f]{64}$/);
    const st = await rt.podSandboxStatus(sb);
    assert.equal(st.state, 'SANDBOX_READY');
    assert.equal(st.network?.ip, '10.244.0.2');
    assert.equal(st.createdAt, 1_000 * 1e6);
    const sb2 = await rt.runPodSandbox(sandboxConfig('other', 'uid-2'));
    assert.equal((await rt.podSandboxStatus(sb2)).network?.ip, '10.244.0.3');

    const id = await rt.createContainer(sb, containerConfig(), sandboxConfig());
    assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_CREATED');
    clock.advance(500);
    await rt.startContainer(id);
    const s1 = await rt.containerStatus(id);
    assert.equal(s1.state, 'CONTAINER_RUNNING');
    assert.equal(s1.startedAt, 1_500 * 1e6);
    assert.equal(s1.logPath, '/var/log/pods/default_web_uid-1/main/0.log');
    assert.equal(s1.image.image, 'docker.io/library/busybox:latest');
    assert.match(s1.imageRef, /^sha256:/);

    clock.advance(1_000);
    rt.exitContainer(id, 3);
    const s2 = await rt.containerStatus(id);
    assert.deepEqual(
      [s2.state, s2.exitCode, s2.reason, s2.finishedAt],
      ['CONTAINER_EXITED', 3, 'Error', 2_500 * 1e6],
    );

    await rt.removePodSandbox(sb);
    await assert.rejects(rt.containerStatus(id), isNotFound);
    await assert.rejects(rt.podSandboxStatus(sb), isNotFound);
    await rt.removePodSandbox(sb); // idempotent
    await rt.removeContainer(id); // idempotent
    await assert.rejects(rt.stopPodSandbox(sb), isNotFound);
  });

  it('filters lists by id, state, sandbox and labels', async () => {
    const rt = new FakeRuntime({ images: ['busybox'] });
    const { sb, id } = await running(rt);
    const other = await rt.runPodSandbox(sandboxConfig('db', 'uid-9'));
    const created = await rt.createContainer(other, containerConfig('side'), sandboxConfig('db', 'uid-9'));
    assert.deepEqual(
      (await rt.listContainers({ state: { state: 'CONTAINER_RUNNING' } })).map((c) => c.id),
      [id],
    );
    assert.deepEqual(
      (await rt.listContainers({ podSandboxId: other })).map((c) => c.id),
      [created],
    );
    assert.deepEqual(
      (await rt.listContainers({ labelSelector: { 'io.kubernetes.container.name': 'side' } })).map(
        (c) => c.id,
      ),
      [created],
    );
    assert.deepEqual(
      (await rt.listPodSandbox({ labelSelector: { app: 'web' } })).map((s) => s.id),
      [sb],
    );
    assert.deepEqual(
      (await rt.listPodSandbox({ id: other })).map((s) => s.metadata.name),
      ['db'],
    );
    await rt.stopPodSandbox(sb);
    assert.deepEqual(
      (await rt.listPodSandbox({ state: { state: 'SANDBOX_NOTREADY' } })).map((s) => s.id),
      [sb],
    );
    const killed = await rt.containerStatus(id);
    assert.deepEqual([killed.state, killed.exitCode, killed.reason], ['CONTAINER_EXITED', 137, 'Error']);
  });

  it('scripts failures, OOM kills and exec results, and logs calls', async () => {
    const rt = new FakeRuntime({ images: ['busybox'] });
    const { id } = await running(rt);
    rt.failNext('containerStatus', new CriError('ContainerStatus', GrpcCode.UNAVAILABLE, 'down'));
    await assert.rejects(rt.containerStatus(id), (e: unknown) => e instanceof CriError && e.code === 14);
    assert.equal((await rt.containerStatus(id)).state, 'CONTAINER_RUNNING');

    rt.setExecSyncResult(id, (cmd) => ({ stdout: cmd.join(' '), exitCode: cmd[0] === 'false' ? 1 : 0 }));
    const ok = await rt.execSync(id, ['echo', 'hi'], 1);
    assert.equal(ok.stdout.toString(), 'echo hi');
    assert.equal((await rt.execSync(id, ['false'], 1)).exitCode, 1);

    rt.oomKill(id);
    const st = await rt.containerStatus(id);
    assert.deepEqual([st.exitCode, st.reason], [137, 'OOMKilled']);
    await assert.rejects(rt.execSync(id, ['true'], 1), CriError);
    assert.deepEqual(
      rt.callsOf('execSync').map((c) => c.args[1]),
      [['echo', 'hi'], ['false'], ['true']],
    );
    assert.equal(rt.calls[0]?.method, 'runPodSandbox');
  });

  it('times out a hanging exec on the clock', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntime({ clock, images: ['busybox'] });
    const { id } = await running(rt);
    rt.setExecSyncResult(id, () => new Promise(() => {}));
    const p = rt.execSync(id, ['sleep', '10'], 2);
    clock.advance(2_000);
    await assert.rejects(p, (e: unknown) => e instanceof CriError && e.code === GrpcCode.DEADLINE_EXCEEDED);
  });

  it('stops with 143, or with 137 after the grace period when SIGTERM is ignored', async () => {
    const clock = new FakeClock();
    const rt = new FakeRuntime({ clock, images: ['busybox'] });
    const { sb, id } = await running(rt);
    await rt.stopContainer(id, 30);
    assert.equal((await rt.containerStatus(id)).exitCode, 143);

    const stubborn = await rt.createContainer(sb, containerConfig('stubborn'), sandboxConfig());
    await rt.startContainer(stubborn);
    rt.setStopBehaviour(stubborn, { ignoreSigterm: true });
    let done = false;
    const p = rt.stopContainer(stubborn, 30).then(() => {
      done = true;
    });
    clock.advance(29_000);
    await Promise.resolve();
    assert.equal(done, false);
    assert.equal((await rt.containerStatus(stubborn)).state, 'CONTAINER_RUNNING');
    clock.advance(1_000);
    await p;
    const st = await rt.containerStatus(stubborn);
    assert.deepEqual([st.state, st.exitCode, st.reason], ['CONTAINER_EXITED', 137, 'Error']);
  });

  it('pulls only pullable images and honours aborted signals', async () => {
    const rt = new FakeRuntime();
    await assert.rejects(rt.pullImage('nginx'), isNotFound);
    assert.equal(await rt.imageStatus('nginx'), undefined);
    rt.makePullable('docker.io/library/nginx:latest');
    const ref = await rt.pullImage('nginx');
    assert.match(ref, /^sha256:/);
    assert.deepEqual((await rt.imageStatus('nginx:latest'))?.repoTags, ['docker.io/library/nginx:latest']);
    assert.equal((await rt.imageStatus(ref))?.id, ref);
    await assert.rejects(
      rt.createContainer(await rt.runPodSandbox(sandboxConfig()), containerConfig(), sandboxConfig()),
      isNotFound,
    );
    await rt.removeImage('nginx');
    assert.equal((await rt.listImages()).length, 0);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(rt.version({ signal: ac.signal }), { name: 'AbortError' });
  });
});
