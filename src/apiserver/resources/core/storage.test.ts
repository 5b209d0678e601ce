import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

const pvc = (spec: Record<string, unknown>, status: Record<string, unknown> = { phase: 'Pending' }) => ({
  metadata: { name: 'data', namespace: 'default' },
  spec,
  status,
});
const claim = (extra: Record<string, unknown> = {}) =>
  pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra });

test('claim defaults: volumeMode Filesystem, phase Pending', () => {
  const c = defaulted('persistentvolumeclaims', {
    metadata: { name: 'c' },
    spec: { accessModes: ['ReadWriteOnce'] },
    status: {},
  });
  assert.deepEqual(c.spec, { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', resources: {} });
  assert.deepEqual(c.status, { phase: 'Pending' });
});

test('claims need access modes and a storage request', () => {
  assert.deepEqual(check('persistentvolumeclaims', pvc({})), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  assert.deepEqual(
    check(
      'persistentvolumeclaims',
      claim({ accessModes: ['ReadWriteOncePod', 'ReadOnlyMany', 'WriteMany'] }),
    ),
    [
      'spec.accessModes: Unsupported value: "WriteMany": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
    ],
  );
  assert.deepEqual(check('persistentvolumeclaims', claim({ resources: { requests: { storage: '0' } } })), [
    'spec.resources[storage]: Invalid value: "0": must be greater than zero',
  ]);
  assert.deepEqual(check('persistentvolumeclaims', claim({ dataSource: { kind: 'Snapshot', name: 's' } })), [
    'spec.dataSource: Invalid value: "Snapshot": must be \'PersistentVolumeClaim\' when referencing the default apiGroup',
  ]);
});

test('claim updates: only the storage request of a bound claim (not below capacity) and volumeName once', () => {
  const old = claim();
  assert.deepEqual(
    check('persistentvolumeclaims', claim({ volumeName: 'pv-1' }), { old: structuredClone(old) }),
    [],
  );
  const errs = check('persistentvolumeclaims', claim({ accessModes: ['ReadWriteMany'] }), {
    old: structuredClone(old),
  });
  assert.equal(errs.length, 1);
  assert.ok(
    errs[0]?.startsWith(
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n',
    ),
  );
  const bound = claim();
  bound.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
  const grown = claim({ resources: { requests: { storage: '2Gi' } } });
  grown.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
  assert.deepEqual(check('persistentvolumeclaims', grown, { old: structuredClone(bound) }), []);
  const shrunk = claim({ resources: { requests: { storage: '500Mi' } } });
  shrunk.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
  assert.deepEqual(check('persistentvolumeclaims', shrunk, { old: structuredClone(bound) }), [
    'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
  ]);
  const unboundGrow = claim({ resources: { requests: { storage: '2Gi' } } });
  assert.equal(check('persistentvolumeclaims', unboundGrow, { old: structuredClone(old) }).length, 1);
});

const pv = (spec: Record<string, unknown>) => ({ metadata: { name: 'pv-1' }, spec, status: {} });
const volume = (extra: Record<string, unknown> = {}) =>
  pv({
    capacity: { storage: '10Gi' },
    accessModes: ['ReadWriteOnce'],
    hostPath: { path: '/data' },
    ...extra,
  });

test('volume defaults: Retain, Filesystem, phase Pending', () => {
  const v = defaulted('persistentvolumes', volume());
  assert.equal((v.spec as Record<string, unknown>).persistentVolumeReclaimPolicy, 'Retain');
  assert.equal((v.spec as Record<string, unknown>).volumeMode, 'Filesystem');
  assert.deepEqual(v.status, { phase: 'Pending' });
});

test('volumes: capacity, access modes, one source', () => {
  assert.deepEqual(check('persistentvolumes', pv({})), [
    'spec.accessModes: Required value',
    'spec.capacity: Required value',
    'spec.capacity: Unsupported value: {}: supported values: "storage"',
    'spec: Required value: must specify a volume type',
  ]);
  assert.deepEqual(check('persistentvolumes', volume({ nfs: { server: 'nfs', path: '/x' } })), [
    'spec.nfs: Forbidden: may not specify more than 1 volume type',
  ]);
  assert.deepEqual(check('persistentvolumes', volume({ persistentVolumeReclaimPolicy: 'Keep' })), [
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
  ]);
  assert.deepEqual(
    check('persistentvolumes', volume({ hostPath: { path: '/' }, persistentVolumeReclaimPolicy: 'Recycle' })),
    ["spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' for a hostPath mount of '/'"],
  );
});

test('local volumes need node affinity', () => {
  const errs = check('persistentvolumes', volume({ hostPath: undefined, local: { path: '/mnt/disk' } }));
  assert.deepEqual(errs, ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
});

test('volume updates: the source is immutable', () => {
  const old = volume();
  const errs = check('persistentvolumes', volume({ hostPath: { path: '/other' } }), {
    old: structuredClone(old),
  });
  assert.equal(errs.length, 1);
  assert.ok(
    errs[0]?.startsWith(
      'spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n',
    ),
  );
  assert.deepEqual(
    check('persistentvolumes', volume({ capacity: { storage: '20Gi' } }), { old: structuredClone(old) }),
    [],
  );
});
