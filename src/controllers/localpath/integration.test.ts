/**
 * Local persistent volumes against a real API server: the local-path StorageClass, the binder and
 * the provisioner together — default class, WaitForFirstConsumer until a pod is on a node, the
 * provisioned hostPath volume and the binding; deletion with reclaim Delete; static volumes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import {
  NAMESPACES,
  NODES,
  PERSISTENT_VOLUME_CLAIMS,
  PERSISTENT_VOLUMES,
  PODS,
} from '../../client/resources.ts';
import { HttpRestClient, isApiError } from '../../client/rest.ts';
import { eventually, startTestApiServer, type TestApiServer } from '../../client/testing.ts';
import type { KubeObject } from '../../client/types.ts';
import { ControllerManager } from '../manager.ts';
import { STORAGE_CLASSES } from '../pvbinder/claims.ts';
import { PersistentVolumeBinderController } from '../pvbinder/controller.ts';
import { PvcProtectionController } from '../pvbinder/protection.ts';
import { LocalPathController } from './controller.ts';
import { ensureLocalPathStorageClass } from './storageclass.ts';

const ROOT = '/var/lib/skiff-test/storage';

describe('local-path volumes against the API server', () => {
  let srv: TestApiServer;
  let client: HttpRestClient;
  const ac = new AbortController();

  before(async () => {
    srv = await startTestApiServer();
    client = new HttpRestClient(srv.config, { component: 'localpath-test' });
    await client.create(NAMESPACES, '', { metadata: { name: 'vol' } });
    await client.create(NODES, '', {
      metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'host-1' } },
    });
    const manager = new ControllerManager({
      client,
      controllers: [
        new PersistentVolumeBinderController(),
        new LocalPathController({ storageRoot: ROOT }),
        new PvcProtectionController(),
      ],
      leaderElection: false,
    });
    void manager.run(ac.signal);
  });
  after(async () => {
    ac.abort();
    await srv.close();
  });

  const claim = (name: string, extra: Record<string, unknown> = {}, size = '1Gi'): KubeObject => ({
    metadata: { name, namespace: 'vol' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...extra },
  });
  const getClaim = async (name: string) =>
    (await client.get(PERSISTENT_VOLUME_CLAIMS, 'vol', name)) as unknown as PersistentVolumeClaim;
  const getVolume = async (name: string) =>
    (await client.get(PERSISTENT_VOLUMES, '', name)) as unknown as PersistentVolume;
  const gone = async (name: string) => {
    try {
      await client.get(PERSISTENT_VOLUMES, '', name);
      return false;
    } catch (err) {
      return isApiError(err, 404);
    }
  };

  it('creates the default local-path StorageClass once', async () => {
    assert.equal(await ensureLocalPathStorageClass(client), true);
    assert.equal(await ensureLocalPathStorageClass(client), false);
    const sc = (await client.get(STORAGE_CLASSES, '', 'local-path')) as unknown as StorageClass;
    assert.equal(sc.provisioner, 'rancher.io/local-path');
    assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
    assert.equal(sc.reclaimPolicy, 'Delete');
    assert.equal(sc.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
  });

  it('provisions a hostPath volume on the pod node and binds it; deleting the claim deletes it', async () => {
    await client.create(PERSISTENT_VOLUME_CLAIMS, 'vol', claim('data'));
    await eventually(
      async () => (await getClaim('data')).spec?.storageClassName === 'local-path',
      'the default class',
    );
    const waiting = await getClaim('data');
    assert.equal(waiting.status?.phase, 'Pending');
    assert.equal(waiting.metadata?.annotations?.['volume.kubernetes.io/selected-node'], undefined);
    assert.equal((await client.list(PERSISTENT_VOLUMES, '')).items.length, 0, 'no volume before a consumer');

    await client.create(PODS, 'vol', {
      metadata: { name: 'user', namespace: 'vol' },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'c', image: 'busybox' }],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
      },
    });
    await eventually(
      async () => (await getClaim('data')).status?.phase === 'Bound',
      'the claim to be bound',
      10_000,
    );
    const pvc = await getClaim('data');
    const pvName = `pvc-${pvc.metadata?.uid}`;
    assert.equal(pvc.spec?.volumeName, pvName);
    assert.equal(pvc.metadata?.annotations?.['volume.kubernetes.io/selected-node'], 'n1');
    assert.equal(
      pvc.metadata?.annotations?.['volume.kubernetes.io/storage-provisioner'],
      'rancher.io/local-path',
    );
    assert.equal(pvc.metadata?.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.deepEqual(pvc.status?.capacity, { storage: '1Gi' });
    assert.deepEqual(pvc.status?.accessModes, ['ReadWriteOnce']);
    const pv = await getVolume(pvName);
    assert.equal(pv.status?.phase, 'Bound');
    assert.deepEqual(pv.spec?.hostPath, { path: `${ROOT}/${pvName}_vol_data`, type: 'DirectoryOrCreate' });
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms, [
      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['host-1'] }] },
    ]);
    assert.deepEqual(pv.spec?.capacity, { storage: '1Gi' });
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.spec?.storageClassName, 'local-path');
    assert.equal(pv.spec?.claimRef?.uid, pvc.metadata?.uid);
    assert.equal(pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'], 'rancher.io/local-path');

    assert.deepEqual(pvc.metadata?.finalizers, ['kubernetes.io/pvc-protection']);
    // In use: deleting the claim waits for the pod.
    await client.delete(PERSISTENT_VOLUME_CLAIMS, 'vol', 'data');
    await new Promise((r) => setTimeout(r, 300));
    const terminating = await getClaim('data');
    assert.ok(terminating.metadata?.deletionTimestamp);
    assert.equal((await getVolume(pvName)).status?.phase, 'Bound');
    await client.delete(PODS, 'vol', 'user', { gracePeriodSeconds: 0 });
    await eventually(() => gone(pvName), 'the volume to be deleted', 10_000);
    await assert.rejects(getClaim('data'), (err: unknown) => isApiError(err, 404));
  });

  it('binds static volumes: the smallest that fits, by class, modes and selector; Retain releases', async () => {
    const volume = (
      name: string,
      size: string,
      extra: Record<string, unknown> = {},
      labels = {},
    ): KubeObject => ({
      metadata: { name, labels },
      spec: {
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: size },
        hostPath: { path: `/srv/${name}` },
        storageClassName: 'manual',
        ...extra,
      },
    });
    await client.create(PERSISTENT_VOLUMES, '', volume('big', '10Gi'));
    await client.create(PERSISTENT_VOLUMES, '', volume('small', '3Gi'));
    await client.create(PERSISTENT_VOLUMES, '', volume('tiny', '1Gi'));
    await client.create(PERSISTENT_VOLUMES, '', volume('rox', '3Gi', { accessModes: ['ReadOnlyMany'] }));
    await client.create(PERSISTENT_VOLUMES, '', volume('labelled', '50Gi', {}, { tier: 'gold' }));
    await eventually(
      async () => (await getVolume('tiny')).status?.phase === 'Available',
      'volumes to be Available',
    );

    await client.create(PERSISTENT_VOLUME_CLAIMS, 'vol', claim('two', { storageClassName: 'manual' }, '2Gi'));
    await client.create(
      PERSISTENT_VOLUME_CLAIMS,
      'vol',
      claim('gold', { storageClassName: 'manual', selector: { matchLabels: { tier: 'gold' } } }, '1Gi'),
    );
    await client.create(
      PERSISTENT_VOLUME_CLAIMS,
      'vol',
      claim('huge', { storageClassName: 'manual' }, '100Gi'),
    );
    await eventually(
      async () => (await getClaim('two')).status?.phase === 'Bound',
      'claim two bound',
      10_000,
    );
    await eventually(
      async () => (await getClaim('gold')).status?.phase === 'Bound',
      'claim gold bound',
      10_000,
    );
    assert.equal((await getClaim('two')).spec?.volumeName, 'small');
    assert.deepEqual((await getClaim('two')).status?.capacity, { storage: '3Gi' });
    assert.equal((await getClaim('gold')).spec?.volumeName, 'labelled');
    assert.equal((await getVolume('small')).status?.phase, 'Bound');
    assert.equal(
      (await getVolume('small')).metadata?.annotations?.['pv.kubernetes.io/bound-by-controller'],
      'yes',
    );
    assert.equal((await getClaim('huge')).status?.phase, 'Pending');

    await client.delete(PERSISTENT_VOLUME_CLAIMS, 'vol', 'two');
    await eventually(
      async () => (await getVolume('small')).status?.phase === 'Released',
      'small released',
      10_000,
    );
    assert.equal(await gone('small'), false, 'Retain keeps the volume');
  });

  it('a volume pre-bound to a claim gets it; Delete without a deleter fails the volume', async () => {
    await client.create(PERSISTENT_VOLUMES, '', {
      metadata: { name: 'mine' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '1Gi' },
        hostPath: { path: '/srv/mine' },
        storageClassName: '',
        persistentVolumeReclaimPolicy: 'Delete',
        claimRef: { namespace: 'vol', name: 'wants-mine' },
      },
    });
    await client.create(PERSISTENT_VOLUME_CLAIMS, 'vol', claim('wants-mine', { storageClassName: '' }));
    await eventually(
      async () => (await getClaim('wants-mine')).status?.phase === 'Bound',
      'pre-bound claim',
      10_000,
    );
    assert.equal((await getClaim('wants-mine')).spec?.volumeName, 'mine');
    assert.equal((await getVolume('mine')).spec?.claimRef?.uid, (await getClaim('wants-mine')).metadata?.uid);
    await client.delete(PERSISTENT_VOLUME_CLAIMS, 'vol', 'wants-mine');
    await eventually(async () => (await getVolume('mine')).status?.phase === 'Failed', 'mine failed', 10_000);
    assert.match((await getVolume('mine')).status?.message ?? '', /no deletable volume plugin matched/);
  });
});
