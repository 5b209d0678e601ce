import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../util/clock.ts';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  LABEL_CONTAINER_NAME,
  LABEL_POD_UID,
} from '../contracts.ts';
import { FakeRuntime } from '../cri/fake.ts';
import { RuntimeCache } from './runtime-state.ts';

const IMAGE = 'docker.io/library/busybox:latest';

async function podWithContainer(cri: FakeRuntime, uid: string, restartCount = 0, sandbox?: string) {
  const meta = { name: 'p', namespace: 'n', uid, attempt: 0 };
  const sb = sandbox ?? (await cri.runPodSandbox({ metadata: meta, labels: { [LABEL_POD_UID]: uid } }));
  const id = await cri.createContainer(
    sb,
    {
      metadata: { name: 'app', attempt: restartCount },
      image: { image: IMAGE },
      labels: { [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: 'app' },
      annotations: { [ANNOTATION_RESTART_COUNT]: String(restartCount), [ANNOTATION_CONTAINER_HASH]: 'abc' },
    },
    { metadata: meta },
  );
  await cri.startContainer(id);
  return { sb, id };
}

test('relist: adopts what the runtime holds from labels and annotations, reports changed pods', async () => {
  const clock = new FakeClock();
  const cri = new FakeRuntime({ clock, images: [IMAGE] });
  const { id } = await podWithContainer(cri, 'u1', 4);
  const cache = new RuntimeCache(cri);
  assert.deepEqual([...(await cache.relist())], ['u1']);
  const pod = cache.pod('u1');
  assert.equal(pod.sandboxes[0]?.ip, '10.244.0.2');
  assert.equal(pod.containers[0]?.restartCount, 4);
  assert.equal(pod.containers[0]?.hash, 'abc');
  assert.equal(pod.containers[0]?.state, 'CONTAINER_RUNNING');
  // Nothing changed: no pod reported, no containerStatus call.
  cri.clearCalls();
  assert.equal((await cache.relist()).size, 0);
  assert.equal(cri.callsOf('containerStatus').length, 0);
  cri.exitContainer(id, 2);
  assert.deepEqual([...(await cache.relist())], ['u1']);
  assert.equal(cache.pod('u1').containers[0]?.exitCode, 2);
});

test('a pod refreshed while a relist runs keeps its newer state', async () => {
  const clock = new FakeClock();
  const cri = new FakeRuntime({ clock, images: [IMAGE] });
  const { sb } = await podWithContainer(cri, 'u1');
  const cache = new RuntimeCache(cri);
  await cache.relist();
  // The relist lists first; a container is created and the pod refreshed before it finishes.
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const list = cri.listContainers.bind(cri);
  cri.listContainers = async (...args) => {
    const out = await list(...args);
    if (!args[0]) await gate;
    return out;
  };
  const relist = cache.relist();
  await new Promise((r) => setImmediate(r));
  await podWithContainer(cri, 'u1', 1, sb);
  await cache.refreshPod('u1');
  assert.equal(cache.pod('u1').containers.length, 2);
  release();
  await relist;
  assert.equal(cache.pod('u1').containers.length, 2, 'the stale listing does not drop the new container');
});
