import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldPath } from '../../../api/errors.ts';
import { defaultPodSpec, validatePodTemplateSpec } from './podspec.ts';
import { check, pod, podWith } from './testing.ts';

const strs = (errs: { toString(): string }[]) => errs.map(String);

test('defaultPodSpec: the PodSpec defaults and nothing pod-only', () => {
  const spec: Record<string, unknown> = {
    containers: [{ name: 'c', image: 'nginx' }],
    serviceAccountName: 'sa',
  };
  defaultPodSpec(spec);
  assert.deepEqual(spec, {
    containers: [
      {
        name: 'c',
        image: 'nginx',
        imagePullPolicy: 'Always',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        resources: {},
      },
    ],
    serviceAccountName: 'sa',
    serviceAccount: 'sa',
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
  });
  const again = structuredClone(spec);
  defaultPodSpec(again);
  assert.deepEqual(again, spec, 'idempotent');
});

test('defaultPodSpec is total on arbitrary JSON', () => {
  for (const v of [
    null,
    1,
    'x',
    [],
    { containers: 'x' },
    { containers: [1, null, 'x'] },
    { volumes: [{ name: 1 }] },
  ]) {
    defaultPodSpec(v);
  }
});

test('validatePodTemplateSpec: labels are reported at <path>.labels, spec at <path>.spec', () => {
  const t = { metadata: { labels: { app: 'bad value' } }, spec: { containers: [{ name: 'c' }] } };
  defaultPodSpec(t.spec);
  assert.deepEqual(strs(validatePodTemplateSpec(t, 'spec.template')), [
    "spec.template.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    'spec.template.spec.containers[0].image: Required value',
  ]);
});

test('validatePodTemplateSpec: type errors come alone; a template has no ephemeral containers', () => {
  assert.deepEqual(
    strs(
      validatePodTemplateSpec({ spec: { containers: [{ name: 'c', image: 5 }] } }, new FieldPath('template')),
    ),
    ['template.spec.containers[0].image: Invalid value: 5: must be of type string'],
  );
  const t = {
    spec: { containers: [{ name: 'c', image: 'x' }], ephemeralContainers: [{ name: 'd', image: 'y' }] },
  };
  defaultPodSpec(t.spec);
  assert.deepEqual(strs(validatePodTemplateSpec(t, 'template')), [
    'template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template',
  ]);
});

test('templates may leave host ports 0 under hostNetwork; pods get them defaulted', () => {
  const spec = { hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] };
  defaultPodSpec(spec);
  assert.deepEqual(strs(validatePodTemplateSpec({ spec }, 'template')), []);
  const withPort = {
    hostNetwork: true,
    containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 81 }] }],
  };
  defaultPodSpec(withPort);
  assert.deepEqual(strs(validatePodTemplateSpec({ spec: withPort }, 'template')), [
    'template.spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true',
  ]);
  assert.deepEqual(check('pods', pod(spec)), []);
});

test('restartPolicy, dnsPolicy and preemptionPolicy values', () => {
  assert.deepEqual(check('pods', pod({ restartPolicy: 'Sometimes' })), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  assert.deepEqual(check('pods', pod({ dnsPolicy: 'Cluster' })), [
    'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
  ]);
  assert.deepEqual(check('pods', pod({ preemptionPolicy: 'Always' })), [
    'spec.preemptionPolicy: Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"',
  ]);
});

test('dnsConfig: required for dnsPolicy None; nameservers are IPs', () => {
  assert.deepEqual(check('pods', pod({ dnsPolicy: 'None' })), [
    'spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None',
  ]);
  assert.deepEqual(
    check('pods', pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', 'dns'] } })),
    [
      'spec.dnsConfig.nameservers[1]: Invalid value: "dns": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  );
  assert.deepEqual(
    check('pods', pod({ dnsConfig: { searches: ['svc.cluster.local.', '_tcp.example.com'] } })),
    [],
  );
});

test('names of things the spec refers to', () => {
  assert.deepEqual(check('pods', pod({ nodeName: 'Node_1' })), [
    "spec.nodeName: Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(check('pods', pod({ hostname: 'a.b' })), [
    'spec.hostname: Invalid value: "a.b": must not contain dots',
  ]);
  assert.deepEqual(check('pods', pod({ activeDeadlineSeconds: 0 })), [
    'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
  ]);
});

test('nodeSelector is a label map', () => {
  assert.deepEqual(check('pods', pod({ nodeSelector: { 'kubernetes.io/os': 'linux' } })), []);
  assert.equal(check('pods', pod({ nodeSelector: { '-bad': 'x' } })).length, 1);
});

test('tolerations', () => {
  assert.deepEqual(check('pods', pod({ tolerations: [{ operator: 'Equal', value: 'x' }] })), [
    'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
  ]);
  assert.deepEqual(check('pods', pod({ tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] })), [
    'spec.tolerations[0].operator: Invalid value: "v": value must be empty when `operator` is \'Exists\'',
  ]);
  assert.deepEqual(
    check('pods', pod({ tolerations: [{ key: 'k', operator: 'Exists', tolerationSeconds: 30 }] })),
    [
      'spec.tolerations[0].effect: Invalid value: "": effect must be \'NoExecute\' when `tolerationSeconds` is set',
    ],
  );
  assert.deepEqual(check('pods', pod({ tolerations: [{ key: 'k', operator: 'In' }] })), [
    'spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"',
  ]);
  assert.deepEqual(check('pods', pod({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoRun' }] })), [
    'spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ]);
});

test('node affinity', () => {
  const na = (required: unknown) =>
    pod({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: required } } });
  assert.deepEqual(check('pods', na({ nodeSelectorTerms: [] })), [
    'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term',
  ]);
  assert.deepEqual(
    check('pods', na({ nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] })),
    [
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      na({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.uid', operator: 'In', values: ['a'] }] }] }),
    ),
    [
      'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key: Invalid value: "metadata.uid": not a valid field selector key',
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      pod({
        affinity: {
          nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }] },
        },
      }),
    ),
    [
      'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100',
    ],
  );
});

test('pod anti-affinity needs a topology key', () => {
  const errs = check(
    'pods',
    pod({
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } } }],
        },
      },
    }),
  );
  assert.equal(
    errs[0],
    'spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty',
  );
  assert.equal(errs.length, 3);
});

test('topology spread constraints', () => {
  const errs = check(
    'pods',
    pod({
      topologySpreadConstraints: [
        { maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' },
        { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', minDomains: 2 },
        { maxSkew: 1, topologyKey: 'host', whenUnsatisfiable: 'ScheduleAnyway', minDomains: 2 },
      ],
    }),
  );
  assert.deepEqual(errs, [
    'spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero',
    'spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: "{zone, DoNotSchedule}"',
    'spec.topologySpreadConstraints[2].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway',
  ]);
});

test('pod security context: ids, sysctls, shareProcessNamespace with hostPID', () => {
  assert.deepEqual(check('pods', pod({ securityContext: { fsGroup: -5 } })), [
    'spec.securityContext.fsGroup: Invalid value: -5: must be between 0 and 2147483647, inclusive',
  ]);
  assert.deepEqual(check('pods', pod({ hostPID: true, shareProcessNamespace: true })), [
    'spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled',
  ]);
  assert.deepEqual(
    check(
      'pods',
      pod({
        hostNetwork: true,
        securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1' }, { name: 'Bad' }] },
      }),
    ),
    [
      'spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be specified when \'hostNetwork\' is true',
      'spec.securityContext.sysctls[1].name: Invalid value: "Bad": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$',
    ],
  );
});

test('os: linux pods may not set windows options', () => {
  assert.deepEqual(check('pods', pod({ os: { name: 'plan9' } })), [
    'spec.os: Unsupported value: "plan9": supported values: "linux", "windows"',
  ]);
  assert.deepEqual(
    check(
      'pods',
      podWith({ securityContext: { windowsOptions: { runAsUserName: 'x' } } }, { os: { name: 'linux' } }),
    ),
    [
      'spec.containers[0].securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod',
    ],
  );
  assert.deepEqual(check('pods', pod({ os: { name: 'windows' }, hostPID: true })), [
    'spec.hostPID: Forbidden: cannot be set for a windows pod',
  ]);
});

test('imagePullSecrets may only carry a name', () => {
  assert.deepEqual(check('pods', pod({ imagePullSecrets: [{ name: 'a' }] })), []);
  assert.deepEqual(check('pods', pod({ imagePullSecrets: [{ name: 'a', key: 'b' }] })), [
    'spec.imagePullSecrets[0]: Invalid value: {"name":"a","key":"b"}: only name may be set',
  ]);
});

test('pod-specific annotations', () => {
  const p = pod();
  (p.metadata as Record<string, unknown>).annotations = {
    'controller.kubernetes.io/pod-deletion-cost': '+1',
    'container.apparmor.security.beta.kubernetes.io/other': 'runtime/default',
  };
  assert.deepEqual(check('pods', p), [
    'metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "+1": must be a 32bit integer',
    'metadata.annotations[container.apparmor.security.beta.kubernetes.io/other]: Invalid value: "other": container not found',
  ]);
});
