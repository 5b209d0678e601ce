import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Printer } from '../table.ts';
import {
  controllerRevisionPrinter,
  daemonSetPrinter,
  deploymentPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
} from './apps.ts';
import { DAY, HOUR, MINUTE, NOW, obj } from './testing.ts';

const names = (p: Printer) => p.columns.map((c) => (c.priority ? `${c.name}*` : c.name));
const template = {
  metadata: { labels: { app: 'web' } },
  spec: {
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    containers: [
      { name: 'nginx', image: 'nginx:1.27' },
      { name: 'exporter', image: 'nginx/nginx-prometheus-exporter:1.1' },
    ],
  },
};

describe('deployment printer', () => {
  it('has the columns of kubectl get deploy', () => {
    assert.deepEqual(names(deploymentPrinter), [
      'Name',
      'Ready',
      'Up-to-date',
      'Available',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
  });

  it('prints READY as ready/desired, then up-to-date and available', () => {
    const d = obj('web', 3 * HOUR, {
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    });
    assert.deepEqual(deploymentPrinter.row(d, NOW), [
      'web',
      '2/3',
      3,
      2,
      '3h',
      'nginx,exporter',
      'nginx:1.27,nginx/nginx-prometheus-exporter:1.1',
      'app=web',
    ]);
  });

  it('prints a fresh deployment with no status, and match expressions', () => {
    const d = obj('new', 5 * MINUTE, {
      spec: {
        replicas: 0,
        selector: {
          matchLabels: { app: 'new' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }],
        },
        template,
      },
    });
    assert.deepEqual(deploymentPrinter.row(d, NOW).slice(0, 5), ['new', '0/0', 0, 0, '5m']);
    assert.equal(deploymentPrinter.row(d, NOW)[7], 'app=new,tier in (be,fe)');
  });

  it('prints <invalid> for a selector it cannot parse', () => {
    const d = obj('bad', MINUTE, {
      spec: { replicas: 1, selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } },
    });
    assert.equal(deploymentPrinter.row(d, NOW)[7], '<invalid>');
  });
});

describe('replica set printer', () => {
  it('prints desired, current and ready counts', () => {
    const rs = obj('web-5d4f8', 3 * HOUR, {
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d4f8' } },
        template,
      },
      status: { replicas: 3, readyReplicas: 3 },
    });
    assert.deepEqual(names(replicaSetPrinter), [
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
    assert.deepEqual(replicaSetPrinter.row(rs, NOW), [
      'web-5d4f8',
      3,
      3,
      3,
      '3h',
      'nginx,exporter',
      'nginx:1.27,nginx/nginx-prometheus-exporter:1.1',
      'app=web,pod-template-hash=5d4f8',
    ]);
  });

  it('prints a scaled-down replica set', () => {
    const rs = obj('web-old', DAY, {
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } } },
      status: { replicas: 0 },
    });
    assert.deepEqual(replicaSetPrinter.row(rs, NOW), ['web-old', 0, 0, 0, '24h', '', '', 'app=web']);
  });
});

describe('stateful set printer', () => {
  it('prints READY as ready/desired', () => {
    const sts = obj('db', 2 * DAY, {
      spec: { replicas: 3, template },
      status: { replicas: 3, readyReplicas: 1 },
    });
    assert.deepEqual(names(statefulSetPrinter), ['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
    assert.deepEqual(statefulSetPrinter.row(sts, NOW), [
      'db',
      '1/3',
      '2d',
      'nginx,exporter',
      'nginx:1.27,nginx/nginx-prometheus-exporter:1.1',
    ]);
  });
});

describe('daemon set printer', () => {
  it('prints the scheduling counts and the node selector', () => {
    const ds = obj('fluentd', 10 * DAY, {
      spec: { selector: { matchLabels: { name: 'fluentd' } }, template },
      status: {
        desiredNumberScheduled: 4,
        currentNumberScheduled: 4,
        numberReady: 3,
        updatedNumberScheduled: 4,
        numberAvailable: 3,
      },
    });
    assert.deepEqual(names(daemonSetPrinter), [
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Up-to-date',
      'Available',
      'Node Selector',
      'Age',
      'Containers*',
      'Images*',
      'Selector*',
    ]);
    assert.deepEqual(daemonSetPrinter.row(ds, NOW), [
      'fluentd',
      4,
      4,
      3,
      4,
      3,
      'kubernetes.io/os=linux',
      '10d',
      'nginx,exporter',
      'nginx:1.27,nginx/nginx-prometheus-exporter:1.1',
      'name=fluentd',
    ]);
  });

  it('prints <none> for no node selector', () => {
    assert.deepEqual(daemonSetPrinter.row(obj('bare', MINUTE), NOW), [
      'bare',
      0,
      0,
      0,
      0,
      0,
      '<none>',
      '60s',
      '',
      '',
      '<none>',
    ]);
  });
});

describe('controller revision printer', () => {
  it('prints the controller as kind.group/name', () => {
    const owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'fluentd', uid: 'u1', controller: true };
    const cr = obj('fluentd-6d5c', HOUR, { revision: 2 }, { ownerReferences: [owner] });
    assert.deepEqual(names(controllerRevisionPrinter), ['Name', 'Controller', 'Revision', 'Age']);
    assert.deepEqual(controllerRevisionPrinter.row(cr, NOW), [
      'fluentd-6d5c',
      'daemonset.apps/fluentd',
      2,
      '60m',
    ]);
  });

  it('prints a core-group controller without a group, and <none> without a controller', () => {
    const owner = { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'u2', controller: true };
    const notController = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's', uid: 'u3' };
    assert.equal(
      controllerRevisionPrinter.row(obj('a', HOUR, { revision: 1 }, { ownerReferences: [owner] }), NOW)[1],
      'pod/p',
    );
    assert.equal(
      controllerRevisionPrinter.row(obj('b', HOUR, {}, { ownerReferences: [notController] }), NOW)[1],
      '<none>',
    );
  });
});
