import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted, pod } from './testing.ts';

const vols = (...volumes: unknown[]) => pod({ volumes });

test('volume defaults: emptyDir when no source, file modes 0644, hostPath type, token expiry', () => {
  const p = defaulted(
    'pods',
    vols(
      { name: 'a' },
      { name: 'b', secret: { secretName: 's' } },
      { name: 'c', configMap: { name: 'cm', defaultMode: 0o400 } },
      { name: 'd', hostPath: { path: '/var' } },
      {
        name: 'e',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token' } },
            { downwardAPI: { items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name' } }] } },
          ],
        },
      },
      { name: 'f', emptyDir: { sizeLimit: '1.5Gi' } },
    ),
  );
  assert.deepEqual((p.spec as { volumes: unknown }).volumes, [
    { name: 'a', emptyDir: {} },
    { name: 'b', secret: { secretName: 's', defaultMode: 420 } },
    { name: 'c', configMap: { name: 'cm', defaultMode: 256 } },
    { name: 'd', hostPath: { path: '/var', type: '' } },
    {
      name: 'e',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          {
            downwardAPI: {
              items: [{ path: 'n', fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } }],
            },
          },
        ],
        defaultMode: 420,
      },
    },
    { name: 'f', emptyDir: { sizeLimit: '1536Mi' } },
  ]);
});

test('volumes: names are required DNS labels and unique', () => {
  assert.deepEqual(check('pods', vols({ emptyDir: {} })), ['spec.volumes[0].name: Required value']);
  assert.deepEqual(check('pods', vols({ name: 'a.b', emptyDir: {} })), [
    'spec.volumes[0].name: Invalid value: "a.b": must not contain dots',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} })), [
    'spec.volumes[1].name: Duplicate value: "a"',
  ]);
});

test('volumes: exactly one source', () => {
  assert.deepEqual(check('pods', vols({ name: 'a', emptyDir: {}, hostPath: { path: '/x' } })), [
    'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
  ]);
});

test('volume sources: required fields', () => {
  assert.deepEqual(check('pods', vols({ name: 'a', hostPath: {} })), [
    'spec.volumes[0].hostPath.path: Required value',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', secret: {} })), [
    'spec.volumes[0].secret.secretName: Required value',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', configMap: {} })), [
    'spec.volumes[0].configMap.name: Required value',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', persistentVolumeClaim: {} })), [
    'spec.volumes[0].persistentVolumeClaim.claimName: Required value',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', nfs: { server: 'n', path: 'rel' } })), [
    'spec.volumes[0].nfs.path: Invalid value: "rel": must be an absolute path',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', gcePersistentDisk: { partition: 300 } })), [
    'spec.volumes[0].persistentDisk.pdName: Required value',
    'spec.volumes[0].persistentDisk.partition: Invalid value: 300: must be between 1 and 255, inclusive',
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', csi: {} })), [
    'spec.volumes[0].csi.driver: Required value',
    "spec.volumes[0].csi.driver: Invalid value: \"\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(check('pods', vols({ name: 'a', hostPath: { path: '/x', type: 'Dir' } })), [
    'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
  ]);
});

test('key-to-path items: relative, no "..", modes', () => {
  assert.deepEqual(
    check(
      'pods',
      vols({ name: 'a', configMap: { name: 'c', items: [{ key: 'k', path: '/abs', mode: 0o1000 }] } }),
    ),
    [
      'spec.volumes[0].configMap.items[0].path: Invalid value: "/abs": must be a relative path',
      'spec.volumes[0].configMap.items[0].mode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive',
    ],
  );
  assert.deepEqual(
    check('pods', vols({ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: '..data' }] } })),
    ['spec.volumes[0].secret.items[0].path: Invalid value: "..data": must not start with \'..\''],
  );
});

test('projected volumes: duplicate paths and one source per entry', () => {
  const errs = check(
    'pods',
    vols({
      name: 'a',
      projected: {
        sources: [
          { configMap: { name: 'c', items: [{ key: 'k', path: 'p' }] } },
          { secret: { name: 's', items: [{ key: 'k', path: 'p' }] }, configMap: { name: 'c' } },
        ],
      },
    }),
  );
  assert.deepEqual(errs, [
    'spec.volumes[0].projected: Invalid value: "s": conflicting duplicate paths',
    'spec.volumes[0].projected.sources[1]: Forbidden: may not specify more than 1 volume type per source',
  ]);
});

test('service account token volumes need a service account on pods', () => {
  const errs = check(
    'pods',
    vols({ name: 'a', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }),
  );
  assert.deepEqual(errs, [
    'spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: must not be specified when serviceAccountName is not set',
  ]);
  const ok = pod({
    serviceAccountName: 'default',
    volumes: [{ name: 'a', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }],
  });
  assert.deepEqual(check('pods', ok), []);
});

test('downward API volume files', () => {
  assert.deepEqual(check('pods', vols({ name: 'a', downwardAPI: { items: [{ path: 'x' }] } })), [
    'spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required',
  ]);
  assert.deepEqual(
    check(
      'pods',
      vols({ name: 'a', downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'spec.nodeName' } }] } }),
    ),
    [
      'spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"',
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      vols({
        name: 'a',
        downwardAPI: { items: [{ path: 'x', resourceFieldRef: { resource: 'limits.cpu' } }] },
      }),
    ),
    ['spec.volumes[0].downwardAPI.resourceFieldRef.containerName: Required value'],
  );
});

test('generic ephemeral volumes: claim template spec and the PVC name', () => {
  const errs = check(
    'pods',
    vols({
      name: 'scratch',
      ephemeral: {
        volumeClaimTemplate: { metadata: { name: 'x' }, spec: { accessModes: ['ReadWriteOnce'] } },
      },
    }),
  );
  assert.deepEqual(errs, [
    'spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.name: Forbidden: cannot be set',
    'spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources[storage]: Required value',
  ]);
});
