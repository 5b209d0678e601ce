import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Printer } from '../table.ts';
import {
  certificateSigningRequestPrinter,
  csiDriverPrinter,
  csiNodePrinter,
  horizontalPodAutoscalerPrinter,
  ingressClassPrinter,
  ingressPrinter,
  networkPolicyPrinter,
  runtimeClassPrinter,
  volumeAttachmentPrinter,
  webhookConfigurationPrinter,
} from './extra.ts';
import { DAY, HOUR, NOW, obj } from './testing.ts';

const names = (p: Printer) => p.columns.map((c) => c.name);

describe('networking printers', () => {
  it('prints an ingress: class, hosts, address, ports', () => {
    const ing = obj('web', HOUR, {
      spec: {
        ingressClassName: 'traefik',
        rules: [
          { host: 'a.example.com' },
          { host: 'b.example.com' },
          {},
          { host: 'c.example.com' },
          { host: 'd.example.com' },
        ],
        tls: [{ hosts: ['a.example.com'] }],
      },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }, { ip: '10.0.0.10' }] } },
    });
    assert.deepEqual(names(ingressPrinter), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
    assert.deepEqual(ingressPrinter.row(ing, NOW), [
      'web',
      'traefik',
      'a.example.com,b.example.com,c.example.com + 2 more...',
      '10.0.0.10,10.0.0.9',
      '80, 443',
      '60m',
    ]);
    assert.deepEqual(ingressPrinter.row(obj('bare', HOUR, { spec: { rules: [{}] } }), NOW), [
      'bare',
      '<none>',
      '*',
      '',
      '80',
      '60m',
    ]);
  });

  it('prints an ingress class and its parameters', () => {
    const ic = obj('nginx', DAY, {
      spec: {
        controller: 'k8s.io/ingress-nginx',
        parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' },
      },
    });
    assert.deepEqual(ingressClassPrinter.row(ic, NOW), [
      'nginx',
      'k8s.io/ingress-nginx',
      'IngressParameters.k8s.example.com/external-lb',
      '24h',
    ]);
    assert.equal(ingressClassPrinter.row(obj('plain', DAY, { spec: { controller: 'c' } }), NOW)[2], '<none>');
  });

  it('prints a network policy’s pod selector', () => {
    assert.deepEqual(networkPolicyPrinter.row(obj('deny-all', HOUR, { spec: { podSelector: {} } }), NOW), [
      'deny-all',
      '<none>',
      '60m',
    ]);
    const np = obj('db', HOUR, { spec: { podSelector: { matchLabels: { role: 'db' } } } });
    assert.deepEqual(networkPolicyPrinter.row(np, NOW), ['db', 'role=db', '60m']);
  });
});

describe('horizontal pod autoscaler printer', () => {
  it('prints targets the way kubectl get hpa does', () => {
    const hpa = obj('web', DAY, {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
          },
          {
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '100' } },
          },
        ],
      },
      status: {
        currentReplicas: 3,
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '90m' } },
          },
        ],
      },
    });
    assert.deepEqual(names(horizontalPodAutoscalerPrinter), [
      'Name',
      'Reference',
      'Targets',
      'MinPods',
      'MaxPods',
      'Replicas',
      'Age',
    ]);
    assert.deepEqual(horizontalPodAutoscalerPrinter.row(hpa, NOW), [
      'web',
      'Deployment/web',
      'cpu: 45%/60%, memory: <unknown>/512Mi + 1 more...',
      '2',
      10,
      3,
      '24h',
    ]);
  });

  it('reads an autoscaling/v1 object and prints <none> without metrics', () => {
    const v1 = obj('v1', DAY, {
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        targetCPUUtilizationPercentage: 80,
      },
      status: { currentReplicas: 1 },
    });
    assert.deepEqual(horizontalPodAutoscalerPrinter.row(v1, NOW).slice(2, 4), [
      'cpu: <unknown>/80%',
      '<unset>',
    ]);
    assert.equal(
      horizontalPodAutoscalerPrinter.row(obj('none', DAY, { spec: { maxReplicas: 1 } }), NOW)[2],
      '<none>',
    );
  });
});

describe('cluster-level printers', () => {
  it('prints runtime classes and webhook configurations', () => {
    assert.deepEqual(runtimeClassPrinter.row(obj('gvisor', DAY, { handler: 'runsc' }), NOW), [
      'gvisor',
      'runsc',
      '24h',
    ]);
    const hooks = obj('policy', DAY, { webhooks: [{ name: 'a.example.com' }, { name: 'b.example.com' }] });
    assert.deepEqual(webhookConfigurationPrinter.row(hooks, NOW), ['policy', 2, '24h']);
  });

  it('prints a certificate signing request’s condition', () => {
    const csr = obj('csr-x', HOUR, {
      spec: {
        signerName: 'kubernetes.io/kube-apiserver-client',
        username: 'system:admin',
        expirationSeconds: 86400,
      },
      status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'LS0t' },
    });
    assert.deepEqual(names(certificateSigningRequestPrinter), [
      'Name',
      'Age',
      'SignerName',
      'Requestor',
      'RequestedDuration',
      'Condition',
    ]);
    assert.deepEqual(certificateSigningRequestPrinter.row(csr, NOW), [
      'csr-x',
      '60m',
      'kubernetes.io/kube-apiserver-client',
      'system:admin',
      '24h',
      'Approved,Issued',
    ]);
    const denied = obj('csr-y', HOUR, {
      spec: {},
      status: { conditions: [{ type: 'Denied' }, { type: 'Approved' }, { type: 'Failed' }] },
    });
    assert.deepEqual(certificateSigningRequestPrinter.row(denied, NOW).slice(2), [
      '<none>',
      '',
      '<none>',
      'Denied,Failed',
    ]);
    assert.equal(certificateSigningRequestPrinter.row(obj('csr-z', HOUR), NOW)[5], 'Pending');
  });

  it('prints CSI drivers, nodes and volume attachments', () => {
    const driver = obj('csi.example.com', DAY, {
      spec: {
        attachRequired: false,
        podInfoOnMount: true,
        tokenRequests: [{ audience: 'vault' }, { audience: 'gcp' }],
        volumeLifecycleModes: ['Persistent', 'Ephemeral'],
      },
    });
    assert.deepEqual(csiDriverPrinter.row(driver, NOW), [
      'csi.example.com',
      false,
      true,
      false,
      'vault,gcp',
      false,
      'Persistent,Ephemeral',
      '24h',
    ]);
    assert.deepEqual(csiDriverPrinter.row(obj('d', DAY), NOW), [
      'd',
      true,
      false,
      false,
      '<unset>',
      false,
      '<none>',
      '24h',
    ]);
    assert.deepEqual(csiNodePrinter.row(obj('node-1', DAY, { spec: { drivers: [{ name: 'a' }] } }), NOW), [
      'node-1',
      1,
      '24h',
    ]);
    const va = obj('csi-123', HOUR, {
      spec: { attacher: 'csi.example.com', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } },
      status: { attached: true },
    });
    assert.deepEqual(volumeAttachmentPrinter.row(va, NOW), [
      'csi-123',
      'csi.example.com',
      'pv-1',
      'node-1',
      true,
      '60m',
    ]);
  });
});
