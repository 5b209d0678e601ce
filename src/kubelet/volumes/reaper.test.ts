/** The local-path reaper removes only pvc-* directories that no PV names and no pod uses. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { FakeRestClient } from '../../client/fake.ts';
import { PERSISTENT_VOLUMES } from '../../client/resources.ts';
import { reapLocalPathDirs } from './reaper.ts';

it('removes orphaned pvc-* directories only', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skiff-reap-'));
  try {
    for (const d of ['pvc-a_ns_x', 'pvc-b_ns_y', 'pvc-c_ns_z', 'other'])
      mkdirSync(join(root, d, 'data'), { recursive: true });
    const client = new FakeRestClient();
    await client.create(PERSISTENT_VOLUMES, '', {
      metadata: { name: 'pvc-a' },
      spec: { hostPath: { path: join(root, 'pvc-a_ns_x') } },
    });
    const removed = await reapLocalPathDirs({
      client,
      storageRoot: root,
      inUse: () => new Set([join(root, 'pvc-c_ns_z')]),
    });
    assert.deepEqual(removed, [join(root, 'pvc-b_ns_y')]);
    assert.deepEqual(
      ['pvc-a_ns_x', 'pvc-b_ns_y', 'pvc-c_ns_z', 'other'].map((d) => existsSync(join(root, d))),
      [true, false, true, true],
    );
    assert.deepEqual(await reapLocalPathDirs({ client, storageRoot: join(root, 'missing') }), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
