import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../object.ts';
import type { Printer } from '../table.ts';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  podTemplatePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.ts';
import { ago, DAY, HOUR, MINUTE, NOW, obj, SECOND } from './testing.ts';

const names = (p: Printer) => p.columns.map((c) => (c.priority ? `${c.name}*` : c.name));
const row = (p: Printer, o: KubeObject) => p.row(o, NOW);

describe('service printer', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
    obj('web', 5 * DAY, { spec: { selector: { app: 'web', tier: 'fe' }, ...spec }, status });

  it('has the columns of kubectl get svc', () => {
    assert.deepEqual(names(servicePrinter), [
      'Name',
      'Type',
      'Cluster-IP',
      'External-IP',
      'Port(s)',
      'Age',
      'Selector*',
    ]);
  });

  it('prints a ClusterIP service', () => {
    const s = svc({
      type: 'ClusterIP',
      clusterIP: '10.43.0.10',
      clusterIPs: ['10.43.0.10'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    });
    assert.deepEqual(row(servicePrinter, s), [
      'web',
      'ClusterIP',
      '10.43.0.10',
      '<none>',
      '53/UDP,53/TCP',
      '5d',
      'app=web,tier=fe',
    ]);
  });

  it('prints node ports and external IPs', () => {
    const s = svc({
      type: 'NodePort',
      clusterIPs: ['10.43.1.2'],
      externalIPs: ['192.0.2.1', '192.0.2.2'],
      ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
    });
    assert.deepEqual(row(servicePrinter, s).slice(1, 5), [
      'NodePort',
      '10.43.1.2',
      '192.0.2.1,192.0.2.2',
      '80:30080/TCP',
    ]);
  });

  it('prints <pending> for a load balancer without ingress, its addresses once it has one', () => {
    const lb = {
      type: 'LoadBalancer',
      clusterIPs: ['10.43.1.3'],
      ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }],
    };
    assert.equal(row(servicePrinter, svc(lb))[3], '<pending>');
    const ingress = {
      loadBalancer: {
        ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.9' }],
      },
    };
    assert.equal(row(servicePrinter, svc(lb, ingress))[3], '203.0.113.9,lb.example.com');
    assert.equal(
      row(servicePrinter, svc({ ...lb, externalIPs: ['198.51.100.1'] }, ingress))[3],
      '203.0.113.9,lb.example.com,198.51.100.1',
    );
  });

  it('prints headless, ExternalName and selector-less services', () => {
    const headless = obj('db', MINUTE, {
      spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [] },
    });
    assert.deepEqual(row(servicePrinter, headless), [
      'db',
      'ClusterIP',
      'None',
      '<none>',
      '<none>',
      '60s',
      '<none>',
    ]);
    const ext = obj('ext', MINUTE, { spec: { type: 'ExternalName', externalName: 'example.com' } });
    assert.deepEqual(row(servicePrinter, ext), [
      'ext',
      'ExternalName',
      '<none>',
      'example.com',
      '<none>',
      '60s',
      '<none>',
    ]);
  });
});

describe('node printer', () => {
  const node = (labels: Record<string, string>, spec: Record<string, unknown>, conditions: unknown[]) =>
    obj(
      'n1',
      30 * DAY,
      {
        spec,
        status: {
          conditions,
          addresses: [
            { type: 'InternalIP', address: '10.0.0.4' },
            { type: 'Hostname', address: 'n1' },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.31.0',
            osImage: 'Ubuntu 24.04 LTS',
            kernelVersion: '6.8.0-31-generic',
            containerRuntimeVersion: 'containerd://1.7.18',
          },
        },
      },
      { labels },
    );
  const readyTrue = [
    { type: 'MemoryPressure', status: 'False' },
    { type: 'Ready', status: 'True' },
  ];

  it('prints a ready control-plane node with its wide cells', () => {
    const n = node(
      { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'n1' },
      {},
      readyTrue,
    );
    assert.deepEqual(names(nodePrinter), [
      'Name',
      'Status',
      'Roles',
      'Age',
      'Version',
      'Internal-IP*',
      'External-IP*',
      'OS-Image*',
      'Kernel-Version*',
      'Container-Runtime*',
    ]);
    assert.deepEqual(row(nodePrinter, n), [
      'n1',
      'Ready',
      'control-plane',
      '30d',
      'v1.31.0',
      '10.0.0.4',
      '<none>',
      'Ubuntu 24.04 LTS',
      '6.8.0-31-generic',
      'containerd://1.7.18',
    ]);
  });

  it('prints cordoned, not-ready and unknown nodes', () => {
    assert.equal(
      row(nodePrinter, node({}, { unschedulable: true }, readyTrue))[1],
      'Ready,SchedulingDisabled',
    );
    assert.equal(row(nodePrinter, node({}, {}, [{ type: 'Ready', status: 'Unknown' }]))[1], 'NotReady');
    assert.equal(row(nodePrinter, node({}, { unschedulable: true }, []))[1], 'Unknown,SchedulingDisabled');
  });

  it('collects roles from both label forms, sorted, or <none>', () => {
    const labels = {
      'node-role.kubernetes.io/worker': '',
      'node-role.kubernetes.io/etcd': 'true',
      'node-role.kubernetes.io/': '',
      'kubernetes.io/role': 'master',
    };
    assert.equal(row(nodePrinter, node(labels, {}, readyTrue))[2], 'etcd,master,worker');
    assert.equal(row(nodePrinter, node({}, {}, readyTrue))[2], '<none>');
  });

  it('prints <unknown> for missing node info', () => {
    assert.deepEqual(row(nodePrinter, { metadata: { name: 'bare' } }), [
      'bare',
      'Unknown',
      '<none>',
      '<unknown>',
      '',
      '<none>',
      '<none>',
      '<unknown>',
      '<unknown>',
      '<unknown>',
    ]);
  });
});

describe('namespace, configmap, secret and service account printers', () => {
  it('prints namespaces with their phase', () => {
    assert.deepEqual(names(namespacePrinter), ['Name', 'Status', 'Age']);
    assert.deepEqual(row(namespacePrinter, obj('kube-system', 2 * HOUR, { status: { phase: 'Active' } })), [
      'kube-system',
      'Active',
      '120m',
    ]);
    assert.deepEqual(row(namespacePrinter, obj('old', DAY, { status: { phase: 'Terminating' } })), [
      'old',
      'Terminating',
      '24h',
    ]);
  });

  it('counts config map data and binaryData', () => {
    const cm = obj('cfg', 90 * SECOND, { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } });
    assert.deepEqual(names(configMapPrinter), ['Name', 'Data', 'Age']);
    assert.deepEqual(row(configMapPrinter, cm), ['cfg', 3, '90s']);
    assert.deepEqual(row(configMapPrinter, obj('empty', 0)), ['empty', 0, '0s']);
  });

  it('prints secret type and data count', () => {
    const s = obj('tls', 7 * MINUTE + 5 * SECOND, {
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'x', 'tls.key': 'y' },
    });
    assert.deepEqual(names(secretPrinter), ['Name', 'Type', 'Data', 'Age']);
    assert.deepEqual(row(secretPrinter, s), ['tls', 'kubernetes.io/tls', 2, '7m5s']);
  });

  it('counts service account secrets', () => {
    assert.deepEqual(names(serviceAccountPrinter), ['Name', 'Secrets', 'Age']);
    assert.deepEqual(row(serviceAccountPrinter, obj('default', 3 * DAY)), ['default', 0, '3d']);
    assert.deepEqual(row(serviceAccountPrinter, obj('bot', HOUR, { secrets: [{ name: 'bot-token' }] })), [
      'bot',
      1,
      '60m',
    ]);
  });
});

describe('event printer', () => {
  it('has kubectl’s columns: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, the rest wide', () => {
    assert.deepEqual(names(eventPrinter), [
      'Last Seen',
      'Type',
      'Reason',
      'Object',
      'Subobject*',
      'Source*',
      'Message',
      'First Seen*',
      'Count*',
      'Name*',
    ]);
  });

  it('prints a core/v1 event', () => {
    const e = obj('web-1.17c', 10 * MINUTE, {
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container app in pod web-1_default\n',
      type: 'Warning',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(10 * MINUTE),
      lastTimestamp: ago(30 * SECOND),
      count: 12,
    });
    assert.deepEqual(row(eventPrinter, e), [
      '30s',
      'Warning',
      'BackOff',
      'pod/web-1',
      'spec.containers{app}',
      'kubelet, node-1',
      'Back-off restarting failed container app in pod web-1_default',
      '10m',
      12,
      'web-1.17c',
    ]);
  });

  it('prints a new-style event (eventTime, series, reporting controller)', () => {
    const e = obj('sched.1', 5 * MINUTE, {
      involvedObject: { kind: 'Pod', name: 'web-2' },
      reason: 'FailedScheduling',
      message: '0/3 nodes are available',
      type: 'Warning',
      eventTime: '2024-05-01T11:54:59.500001Z',
      series: { count: 4, lastObservedTime: '2024-05-01T11:59:00.000001Z' },
      reportingComponent: 'default-scheduler',
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-cp-1',
    });
    assert.deepEqual(row(eventPrinter, e), [
      '60s',
      'Warning',
      'FailedScheduling',
      'pod/web-2',
      '',
      'default-scheduler, default-scheduler-cp-1',
      '0/3 nodes are available',
      '5m',
      4,
      'sched.1',
    ]);
  });

  it('prints an events.k8s.io/v1 event and a singleton with no count', () => {
    const e = obj('n.1', HOUR, {
      regarding: { kind: 'Node', name: 'node-1' },
      reason: 'NodeReady',
      note: 'Node node-1 status is now: NodeReady',
      type: 'Normal',
      eventTime: ago(HOUR),
      reportingController: 'kubelet',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
    });
    assert.deepEqual(row(eventPrinter, e), [
      '60m',
      'Normal',
      'NodeReady',
      'node/node-1',
      '',
      'kubelet, node-1',
      'Node node-1 status is now: NodeReady',
      '60m',
      1,
      'n.1',
    ]);
  });

  it('prints <unknown> times and a bare kind when there is nothing else', () => {
    const cells = row(eventPrinter, { metadata: { name: 'e' }, involvedObject: { kind: 'ClusterRole' } });
    assert.deepEqual(cells, ['<unknown>', '', '', 'clusterrole', '', '', '', '<unknown>', 1, 'e']);
  });
});

describe('persistent volume printers', () => {
  it('prints a bound volume', () => {
    const pv = obj('pv-1', 2 * DAY, {
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: 'default', name: 'data' },
        storageClassName: 'local-path',
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Bound' },
    });
    assert.deepEqual(names(persistentVolumePrinter), [
      'Name',
      'Capacity',
      'Access Modes',
      'Reclaim Policy',
      'Status',
      'Claim',
      'StorageClass',
      'VolumeAttributesClass',
      'Reason',
      'Age',
      'VolumeMode*',
    ]);
    assert.deepEqual(row(persistentVolumePrinter, pv), [
      'pv-1',
      '10Gi',
      'RWO,RWX',
      'Retain',
      'Bound',
      'default/data',
      'local-path',
      '<unset>',
      '',
      '2d',
      'Filesystem',
    ]);
  });

  it('prints Terminating, the canonical capacity and the beta class annotation', () => {
    const pv = obj(
      'pv-2',
      MINUTE,
      {
        spec: {
          capacity: { storage: '1024Mi' },
          accessModes: ['ReadWriteOncePod'],
          storageClassName: 'ignored',
        },
        status: { phase: 'Released', reason: 'Gone' },
      },
      { deletionTimestamp: ago(SECOND), annotations: { 'volume.beta.kubernetes.io/storage-class': 'beta' } },
    );
    assert.deepEqual(row(persistentVolumePrinter, pv), [
      'pv-2',
      '1Gi',
      'RWOP',
      '',
      'Terminating',
      '',
      'beta',
      '<unset>',
      'Gone',
      '60s',
      '<unset>',
    ]);
  });

  it('prints bound and pending claims', () => {
    assert.deepEqual(names(persistentVolumeClaimPrinter), [
      'Name',
      'Status',
      'Volume',
      'Capacity',
      'Access Modes',
      'StorageClass',
      'VolumeAttributesClass',
      'Age',
      'VolumeMode*',
    ]);
    const bound = obj('data', HOUR, {
      spec: {
        volumeName: 'pvc-123',
        storageClassName: 'local-path',
        volumeMode: 'Filesystem',
        resources: { requests: { storage: '1Gi' } },
      },
      status: { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] },
    });
    assert.deepEqual(row(persistentVolumeClaimPrinter, bound), [
      'data',
      'Bound',
      'pvc-123',
      '2Gi',
      'RWO',
      'local-path',
      '<unset>',
      '60m',
      'Filesystem',
    ]);
    const pending = obj('wait', MINUTE, {
      spec: { storageClassName: 'slow', resources: { requests: { storage: '1Gi' } } },
      status: { phase: 'Pending' },
    });
    assert.deepEqual(row(persistentVolumeClaimPrinter, pending), [
      'wait',
      'Pending',
      '',
      '',
      '',
      'slow',
      '<unset>',
      '60s',
      '<unset>',
    ]);
  });
});

describe('endpoints printer', () => {
  it('prints up to three endpoints, then how many more', () => {
    const ep = obj('web', HOUR, {
      subsets: [
        {
          addresses: [{ ip: '10.42.0.5' }, { ip: '10.42.0.6' }],
          ports: [
            { name: 'http', port: 8080, protocol: 'TCP' },
            { name: 'metrics', port: 9090, protocol: 'TCP' },
          ],
        },
      ],
    });
    assert.deepEqual(row(endpointsPrinter, ep), [
      'web',
      '10.42.0.5:8080,10.42.0.6:8080,10.42.0.5:9090 + 1 more...',
      '60m',
    ]);
  });

  it('prints IPv6 endpoints in brackets, headless ones without ports, <none> without subsets', () => {
    const v6 = obj('v6', HOUR, { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] }] });
    assert.equal(row(endpointsPrinter, v6)[1], '[fd00::1]:53');
    const headless = obj('h', HOUR, { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }] });
    assert.equal(row(endpointsPrinter, headless)[1], '10.0.0.1,10.0.0.2');
    assert.equal(row(endpointsPrinter, obj('none', HOUR))[1], '<none>');
  });
});

describe('resource quota printer', () => {
  it('splits requests and limits, sorted by resource', () => {
    const rq = obj('quota', DAY, {
      status: {
        hard: {
          'limits.memory': '2Gi',
          pods: '10',
          'requests.cpu': '1',
          'limits.cpu': '2',
          'requests.memory': '1Gi',
        },
        used: { pods: '3', 'requests.cpu': '500m', 'limits.cpu': '1', 'requests.memory': '512Mi' },
      },
    });
    assert.deepEqual(names(resourceQuotaPrinter), ['Name', 'Request', 'Limit', 'Age']);
    assert.deepEqual(row(resourceQuotaPrinter, rq), [
      'quota',
      'pods: 3/10, requests.cpu: 500m/1, requests.memory: 512Mi/1Gi',
      'limits.cpu: 1/2, limits.memory: 0/2Gi',
      '24h',
    ]);
  });
});

describe('replication controller and pod template printers', () => {
  it('prints a replication controller', () => {
    const rc = obj('rc', HOUR, {
      spec: {
        replicas: 3,
        selector: { app: 'rc' },
        template: {
          spec: {
            containers: [
              { name: 'a', image: 'nginx:1.27' },
              { name: 'b', image: 'busybox' },
            ],
          },
        },
      },
      status: { replicas: 3, readyReplicas: 2 },
    });
    assert.deepEqual(row(replicationControllerPrinter, rc), [
      'rc',
      3,
      3,
      2,
      '60m',
      'a,b',
      'nginx:1.27,busybox',
      'app=rc',
    ]);
  });

  it('prints a pod template with its labels', () => {
    const pt = obj('tpl', HOUR, {
      template: {
        metadata: { labels: { b: '2', a: '1' } },
        spec: { containers: [{ name: 'c', image: 'img' }] },
      },
    });
    assert.deepEqual(names(podTemplatePrinter), ['Name', 'Containers', 'Images', 'Pod Labels']);
    assert.deepEqual(row(podTemplatePrinter, pt), ['tpl', 'c', 'img', 'a=1,b=2']);
    assert.deepEqual(row(podTemplatePrinter, obj('bare', HOUR)), ['bare', '', '', '<none>']);
  });
});
