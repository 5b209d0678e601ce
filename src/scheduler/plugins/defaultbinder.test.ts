import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { CycleState } from '../framework/cycle_state.ts';
import { Code } from '../framework/status.ts';
import { FakeCluster, makePod, testFramework } from '../testing.ts';

describe('DefaultBinder', () => {
  it('posts a v1 Binding to pods/binding', async () => {
    const cluster = new FakeCluster();
    const pod = cluster.seed('pods', makePod('p'));
    const { fw } = testFramework({ plugins: [{ name: 'DefaultBinder' }], cluster });
    assert.equal(await fw.runBindPlugins(new CycleState(), pod, 'n1'), undefined);
    const call = cluster.calls.find((c) => c.verb === 'binding')!;
    assert.deepEqual(call.body, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'p', namespace: 'default', uid: pod.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: 'n1' },
    });
    await cluster.flush();
    assert.equal(cluster.pods.get('default/p')?.spec?.nodeName, 'n1');
  });

  it('turns API errors into Error statuses', async () => {
    const cluster = new FakeCluster();
    const pod = cluster.seed('pods', makePod('p'));
    cluster.failBindings.push(new ApiError(409, 'Conflict', 'pod p is already assigned to node "x"'));
    const { fw } = testFramework({ plugins: [{ name: 'DefaultBinder' }], cluster });
    const s = await fw.runBindPlugins(new CycleState(), pod, 'n1');
    assert.equal(s?.code, Code.Error);
    assert.equal(s?.message(), 'running Bind plugin "DefaultBinder": pod p is already assigned to node "x"');
  });
});
