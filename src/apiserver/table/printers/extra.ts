/**
 * Printers for built-in kinds beyond the core set, so they print right once served: ingresses,
 * ingress classes and network policies (networking.k8s.io), horizontal pod autoscalers,
 * runtime classes, admission webhook configurations, certificate signing requests and the CSI
 * storage kinds. After the matching print* functions of Kubernetes' printers.go.
 */
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, col, humanDuration, NAME_COLUMN, type Printer } from '../table.ts';
import {
  arr,
  bool,
  formatLabelSelector,
  int,
  isObj,
  loadBalancerIngress,
  type Obj,
  quantity,
  rec,
  recs,
  since,
  str,
} from './format.ts';

const name = (o: KubeObject) => o.metadata.name ?? '';
const age = (o: KubeObject, now: number) => since(o.metadata.creationTimestamp, now);

/** formatHosts: up to three rule hosts, "*" when none. */
function ingressHosts(rules: unknown): string {
  const rs = recs(rules);
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const r of rs) {
    if (list.length === max) more = true;
    if (!more && str(r.host) !== '') list.push(str(r.host));
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  return more ? `${ret} + ${rs.length - max} more...` : ret;
}

export const ingressPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col(
      'Class',
      'string',
      'The name of the IngressClass resource that should be used for additional configuration',
    ),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    AGE_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    return [
      name(o),
      typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>',
      ingressHosts(spec.rules),
      loadBalancerIngress(rec(o.status).loadBalancer),
      arr(spec.tls).length !== 0 ? '80, 443' : '80',
      age(o, now),
    ];
  },
};

export const ingressClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Controller', 'string', 'Controller that is responsible for handling this class'),
    col('Parameters', 'string', 'A reference to a resource with additional parameters'),
    AGE_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    let parameters = '<none>';
    if (isObj(spec.parameters)) {
      const p = spec.parameters;
      parameters = typeof p.apiGroup === 'string' ? `${str(p.kind)}.${p.apiGroup}` : str(p.kind);
      parameters += `/${str(p.name)}`;
    }
    return [name(o), str(spec.controller), parameters, age(o, now)];
  },
};

export const networkPolicyPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Pod-Selector', 'string', 'Selects the pods to which this NetworkPolicy object applies.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), formatLabelSelector(rec(rec(o.spec).podSelector)), age(o, now)],
};

/** Quantity.String() of a *Quantity: "<nil>" when absent. */
const quantityPtr = (v: unknown) => (v === undefined || v === null ? '<nil>' : quantity(v));

/** One autoscaling/v2 metric as formatHPAMetrics prints it. */
function hpaMetric(spec: Obj, status: Obj | undefined): string {
  const source = (field: string) => rec(spec[field]);
  const current = (field: string): Obj | undefined =>
    status && isObj(status[field]) ? rec((status[field] as Obj).current) : undefined;
  switch (spec.type) {
    case 'External':
    case 'Object': {
      const field = spec.type === 'External' ? 'external' : 'object';
      const target = rec(source(field).target);
      const cur = current(field);
      if (target.averageValue !== undefined && target.averageValue !== null) {
        const value =
          cur && cur.averageValue !== undefined && cur.averageValue !== null
            ? quantity(cur.averageValue)
            : '<unknown>';
        return `${value}/${quantity(target.averageValue)} (avg)`;
      }
      return `${cur ? quantityPtr(cur.value) : '<unknown>'}/${quantityPtr(target.value)}`;
    }
    case 'Pods': {
      const cur = current('pods');
      return `${cur ? quantityPtr(cur.averageValue) : '<unknown>'}/${quantityPtr(rec(source('pods').target).averageValue)}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const field = spec.type === 'Resource' ? 'resource' : 'containerResource';
      const metric = source(field);
      const target = rec(metric.target);
      const cur = current(field);
      if (target.averageValue !== undefined && target.averageValue !== null) {
        return `${str(metric.name)}: ${cur ? quantityPtr(cur.averageValue) : '<unknown>'}/${quantity(target.averageValue)}`;
      }
      const value =
        cur && typeof cur.averageUtilization === 'number' ? `${cur.averageUtilization}%` : '<unknown>';
      const goal = typeof target.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
      return `${str(metric.name)}: ${value}/${goal}`;
    }
  }
  return '<unknown type>';
}

/** The metrics of an HPA in v2 form; a v1 object's CPU target reads as the Resource metric it maps to. */
function hpaMetrics(o: KubeObject): [specs: Obj[], statuses: Obj[]] {
  const spec = rec(o.spec);
  const status = rec(o.status);
  if (Array.isArray(spec.metrics) || typeof spec.targetCPUUtilizationPercentage !== 'number') {
    return [recs(spec.metrics), recs(status.currentMetrics)];
  }
  const cpu = (current: Obj) => ({ type: 'Resource', resource: { name: 'cpu', ...current } });
  const statuses =
    typeof status.currentCPUUtilizationPercentage === 'number'
      ? [cpu({ current: { averageUtilization: status.currentCPUUtilizationPercentage } })]
      : [];
  return [
    [cpu({ target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } })],
    statuses,
  ];
}

function formatHPAMetrics(o: KubeObject): string {
  const [specs, statuses] = hpaMetrics(o);
  if (specs.length === 0) return '<none>';
  const max = 2;
  const list = specs.map((s, i) => hpaMetric(s, statuses[i]));
  if (list.length > max) return `${list.slice(0, max).join(', ')} + ${list.length - max} more...`;
  return list.join(', ');
}

export const horizontalPodAutoscalerPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Reference', 'string', 'scaleTargetRef points to the target resource to scale.'),
    col(
      'Targets',
      'string',
      'metrics contains the specifications for which to use to calculate the desired replica count.',
    ),
    col(
      'MinPods',
      'string',
      'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.',
    ),
    col(
      'MaxPods',
      'string',
      'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.',
    ),
    col(
      'Replicas',
      'string',
      'currentReplicas is current number of replicas of pods managed by this autoscaler.',
    ),
    AGE_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const ref = rec(spec.scaleTargetRef);
    return [
      name(o),
      `${str(ref.kind)}/${str(ref.name)}`,
      formatHPAMetrics(o),
      typeof spec.minReplicas === 'number' ? String(spec.minReplicas) : '<unset>',
      int(spec.maxReplicas),
      int(rec(o.status).currentReplicas),
      age(o, now),
    ];
  },
};

export const runtimeClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Handler', 'string', 'handler specifies the underlying runtime and configuration.'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), str(o.handler), age(o, now)],
};

export const webhookConfigurationPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), arr(o.webhooks).length, age(o, now)],
};

/** extractCSRStatus: Denied / Approved / Pending, then ",Failed" and ",Issued". */
function csrStatus(o: KubeObject): string {
  const status = rec(o.status);
  const types = new Set(recs(status.conditions).map((c) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (str(status.certificate) !== '') s += ',Issued';
  return s;
}

export const certificateSigningRequestPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    col('SignerName', 'string', 'signerName indicates the requested signer, and is a qualified name.'),
    col(
      'Requestor',
      'string',
      'request contains an x509 certificate signing request encoded in a "CERTIFICATE REQUEST" PEM block.',
    ),
    col(
      'RequestedDuration',
      'string',
      'expirationSeconds is the requested duration of validity of the issued certificate.',
    ),
    col(
      'Condition',
      'string',
      'conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".',
    ),
  ],
  row(o, now) {
    const spec = rec(o.spec);
    return [
      name(o),
      age(o, now),
      str(spec.signerName) || '<none>',
      str(spec.username),
      typeof spec.expirationSeconds === 'number' ? humanDuration(spec.expirationSeconds * 1000) : '<none>',
      csrStatus(o),
    ];
  },
};

export const csiDriverPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col(
      'AttachRequired',
      'boolean',
      'attachRequired indicates this CSI volume driver requires an attach operation.',
    ),
    col(
      'PodInfoOnMount',
      'boolean',
      'podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations.',
    ),
    col(
      'StorageCapacity',
      'boolean',
      'storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report.',
    ),
    col(
      'TokenRequests',
      'string',
      "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication.",
    ),
    col(
      'RequiresRepublish',
      'boolean',
      'requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume.',
    ),
    col(
      'Modes',
      'string',
      'volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.',
    ),
    AGE_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    const tokenRequests = Array.isArray(spec.tokenRequests)
      ? recs(spec.tokenRequests)
          .map((t) => str(t.audience))
          .join(',')
      : '<unset>';
    return [
      name(o),
      bool(spec.attachRequired, true),
      bool(spec.podInfoOnMount),
      bool(spec.storageCapacity),
      tokenRequests,
      bool(spec.requiresRepublish),
      arr(spec.volumeLifecycleModes).map(String).join(',') || '<none>',
      age(o, now),
    ];
  },
};

export const csiNodePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Drivers', 'integer', 'Drivers indicates the number of CSI drivers registered on the node'),
    AGE_COLUMN,
  ],
  row: (o, now) => [name(o), arr(rec(o.spec).drivers).length, age(o, now)],
};

export const volumeAttachmentPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    {
      ...col(
        'Attacher',
        'string',
        'attacher indicates the name of the volume driver that MUST handle this request.',
      ),
      format: 'name',
    },
    col('PV', 'string', 'persistentVolumeName represents the name of the persistent volume to attach.'),
    col('Node', 'string', 'nodeName represents the node that the volume should be attached to.'),
    col('Attached', 'boolean', 'attached indicates the volume is successfully attached.'),
    AGE_COLUMN,
  ],
  row(o, now) {
    const spec = rec(o.spec);
    return [
      name(o),
      str(spec.attacher),
      str(rec(spec.source).persistentVolumeName),
      str(spec.nodeName),
      bool(rec(o.status).attached),
      age(o, now),
    ];
  },
};
