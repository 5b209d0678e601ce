import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Printer } from '../table.ts';
import {
  clusterRoleBindingPrinter,
  endpointSlicePrinter,
  leasePrinter,
  podDisruptionBudgetPrinter,
  priorityClassPrinter,
  roleBindingPrinter,
  storageClassPrinter,
} from './other.ts';
import { DAY, HOUR, MINUTE, NOW, obj } from './testing.ts';

const names = (p: Printer) => p.columns.map((c) => (c.priority ? `${c.name}*` : c.name));

describe('endpoint slice printer', () => {
  it('prints address type, ports and endpoints', () => {
    const slice = obj('web-abc12', HOUR, {
      addressType: 'IPv4',
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'grpc', port: 9000 },
      ],
      endpoints: [{ addresses: ['10.42.0.5'] }, { addresses: ['10.42.0.6'], conditions: { ready: false } }],
    });
    assert.deepEqual(names(endpointSlicePrinter), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
    assert.deepEqual(endpointSlicePrinter.row(slice, NOW), [
      'web-abc12',
      'IPv4',
      '8080,9000',
      '10.42.0.5,10.42.0.6',
      '60m',
    ]);
  });

  it('prints "+ N more...", named or wildcard ports, and <unset> when empty', () => {
    const slice = obj('big', HOUR, {
      addressType: 'IPv4',
      ports: [{ name: 'named' }, {}, { port: 1 }, { port: 2 }],
      endpoints: [
        { addresses: ['10.0.0.1', '10.0.0.2'] },
        { addresses: ['10.0.0.3', '10.0.0.4', '10.0.0.5'] },
      ],
    });
    assert.deepEqual(endpointSlicePrinter.row(slice, NOW).slice(2, 4), [
      'named,*,1 + 1 more...',
      '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...',
    ]);
    assert.deepEqual(endpointSlicePrinter.row(obj('empty', HOUR, { addressType: 'IPv6' }), NOW), [
      'empty',
      'IPv6',
      '<unset>',
      '<unset>',
      '60m',
    ]);
  });
});

describe('lease printer', () => {
  it('prints the holder', () => {
    const lease = obj('kube-scheduler', DAY, {
      spec: { holderIdentity: 'cp-1_0f9e', leaseDurationSeconds: 15 },
    });
    assert.deepEqual(names(leasePrinter), ['Name', 'Holder', 'Age']);
    assert.deepEqual(leasePrinter.row(lease, NOW), ['kube-scheduler', 'cp-1_0f9e', '24h']);
    assert.deepEqual(leasePrinter.row(obj('free', MINUTE, { spec: {} }), NOW), ['free', '', '60s']);
  });
});

describe('priority class printer', () => {
  it('prints value, global default and (wide) preemption policy', () => {
    const pc = obj('system-node-critical', 30 * DAY, {
      value: 2000001000,
      globalDefault: false,
      preemptionPolicy: 'PreemptLowerPriority',
    });
    assert.deepEqual(names(priorityClassPrinter), [
      'Name',
      'Value',
      'Global-Default',
      'Age',
      'PreemptionPolicy*',
    ]);
    assert.deepEqual(priorityClassPrinter.row(pc, NOW), [
      'system-node-critical',
      2000001000,
      false,
      '30d',
      'PreemptLowerPriority',
    ]);
    assert.deepEqual(priorityClassPrinter.row(obj('low', HOUR, { value: -10, globalDefault: true }), NOW), [
      'low',
      -10,
      true,
      '60m',
      '',
    ]);
  });
});

describe('pod disruption budget printer', () => {
  it('prints min available or max unavailable, N/A for the other', () => {
    const pdb = obj('web', DAY, { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } });
    assert.deepEqual(names(podDisruptionBudgetPrinter), [
      'Name',
      'Min Available',
      'Max Unavailable',
      'Allowed Disruptions',
      'Age',
    ]);
    assert.deepEqual(podDisruptionBudgetPrinter.row(pdb, NOW), ['web', '2', 'N/A', 1, '24h']);
    const pct = obj('db', DAY, { spec: { maxUnavailable: '25%' }, status: {} });
    assert.deepEqual(podDisruptionBudgetPrinter.row(pct, NOW), ['db', 'N/A', '25%', 0, '24h']);
  });
});

describe('storage class printer', () => {
  it('marks the default class and fills Kubernetes’ defaults', () => {
    const sc = obj(
      'local-path',
      5 * DAY,
      {
        provisioner: 'rancher.io/local-path',
        volumeBindingMode: 'WaitForFirstConsumer',
        reclaimPolicy: 'Delete',
      },
      {
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
    );
    assert.deepEqual(names(storageClassPrinter), [
      'Name',
      'Provisioner',
      'ReclaimPolicy',
      'VolumeBindingMode',
      'AllowVolumeExpansion',
      'Age',
    ]);
    assert.deepEqual(storageClassPrinter.row(sc, NOW), [
      'local-path (default)',
      'rancher.io/local-path',
      'Delete',
      'WaitForFirstConsumer',
      false,
      '5d',
    ]);
    const plain = obj(
      'fast',
      MINUTE,
      { provisioner: 'csi.example.com', allowVolumeExpansion: true },
      {
        annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'false' },
      },
    );
    assert.deepEqual(storageClassPrinter.row(plain, NOW), [
      'fast',
      'csi.example.com',
      'Delete',
      'Immediate',
      true,
      '60s',
    ]);
  });
});

describe('role binding printers', () => {
  const subjects = [
    { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
    { kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'ServiceAccount', name: 'default', namespace: 'kube-system' },
  ];

  it('prints the role and (wide) users, groups and service accounts', () => {
    const rb = obj('edit', HOUR, {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects,
    });
    assert.deepEqual(names(roleBindingPrinter), [
      'Name',
      'Role',
      'Age',
      'Users*',
      'Groups*',
      'ServiceAccounts*',
    ]);
    assert.deepEqual(roleBindingPrinter.row(rb, NOW), [
      'edit',
      'ClusterRole/edit',
      '60m',
      'alice, bob',
      'devs',
      'ci/deployer, kube-system/default',
    ]);
  });

  it('prints cluster role bindings the same way, empty cells without subjects', () => {
    const crb = obj('cluster-admin', 100 * DAY, { roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } });
    assert.equal(clusterRoleBindingPrinter.columns[3]?.description, 'Users in the clusterRoleBinding');
    assert.deepEqual(clusterRoleBindingPrinter.row(crb, NOW), [
      'cluster-admin',
      'ClusterRole/cluster-admin',
      '100d',
      '',
      '',
      '',
    ]);
    assert.equal(clusterRoleBindingPrinter.row(obj('x', 2 * MINUTE + 3000), NOW)[1], '/');
  });
});
