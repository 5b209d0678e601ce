import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POD_UPDATE_FORBIDDEN } from './pod.ts';
import { check, defaulted, pod, podWith } from './testing.ts';

test('a pod gets the defaults Kubernetes gives it', () => {
  const p = defaulted('pods', {
    metadata: { name: 'web', namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'nginx' }] },
    status: { phase: 'Pending' },
  });
  assert.deepEqual(p, {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx',
          imagePullPolicy: 'Always',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          resources: {},
        },
      ],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
  });
});

test('pods: requests default to limits; host ports follow container ports under hostNetwork', () => {
  const p = defaulted(
    'pods',
    podWith(
      { resources: { limits: { cpu: '1', memory: '1Gi' } }, ports: [{ containerPort: 8080 }] },
      { hostNetwork: true },
    ),
  );
  const c = (p.spec as { containers: Record<string, unknown>[] }).containers[0]!;
  assert.deepEqual(c.resources, {
    limits: { cpu: '1', memory: '1Gi' },
    requests: { cpu: '1', memory: '1Gi' },
  });
  assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }]);
  assert.equal((p.status as { qosClass: string }).qosClass, 'Guaranteed');
});

test('QoS classes', () => {
  const qos = (resources: unknown) =>
    (defaulted('pods', podWith({ resources })).status as { qosClass: string }).qosClass;
  assert.equal(qos({}), 'BestEffort');
  assert.equal(qos({ requests: { cpu: '100m' } }), 'Burstable');
  assert.equal(qos({ limits: { cpu: '1', memory: '1Gi' } }), 'Guaranteed');
  assert.equal(qos({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } }), 'Burstable');
  assert.equal(qos({ limits: { cpu: '1' } }), 'Burstable');
});

test('a valid pod has no errors', () => {
  assert.deepEqual(check('pods', pod()), []);
});

test('wrong JSON types are reported, not thrown', () => {
  assert.deepEqual(check('pods', { metadata: { name: 'p' }, spec: 'nginx' }), [
    'spec: Invalid value: "nginx": must be of type object',
  ]);
  assert.deepEqual(
    check('pods', pod({ containers: [{ name: 'c', image: 'x', ports: [{ containerPort: '80' }] }] })),
    ['spec.containers[0].ports[0].containerPort: Invalid value: "80": must be of type integer'],
  );
  assert.deepEqual(check('pods', pod({ terminationGracePeriodSeconds: 1.5 })), [
    'spec.terminationGracePeriodSeconds: Invalid value: 1.5: must be an integer',
  ]);
  assert.deepEqual(check('pods', podWith({ resources: { limits: { cpu: 'lots' } } })), [
    'spec.containers[0].resources.limits[cpu]: Invalid value: "lots": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    'spec.containers[0].resources.requests[cpu]: Invalid value: "lots": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
  ]);
});

test('create: no ephemeral containers, no nodeName while scheduling gates remain', () => {
  assert.deepEqual(check('pods', pod({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] })), [
    'spec.ephemeralContainers: Forbidden: cannot be set on create',
  ]);
  assert.deepEqual(check('pods', pod({ nodeName: 'n1', schedulingGates: [{ name: 'example.com/gate' }] })), [
    'spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared',
  ]);
});

test('update: the image may change, other spec fields may not', () => {
  const old = pod();
  const next = structuredClone(old);
  ((next.spec as { containers: Record<string, unknown>[] }).containers[0] as Record<string, unknown>).image =
    'nginx:1.28';
  assert.deepEqual(check('pods', next, { old: structuredClone(old) }), []);
  const changed = structuredClone(old);
  (changed.spec as Record<string, unknown>).restartPolicy = 'Never';
  const errs = check('pods', changed, { old: structuredClone(old) });
  assert.equal(errs.length, 1);
  const msg = errs[0] ?? '';
  assert.ok(msg.startsWith(`spec: Forbidden: ${POD_UPDATE_FORBIDDEN}\n`), msg);
  assert.ok(msg.includes('spec.restartPolicy: "Always" -> "Never"'), msg);
  assert.equal(
    POD_UPDATE_FORBIDDEN,
    'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
  );
});

test('update: containers may not be added or removed', () => {
  const old = pod();
  const next = pod({
    containers: [
      { name: 'c', image: 'nginx:1.27' },
      { name: 'd', image: 'x' },
    ],
  });
  assert.deepEqual(check('pods', next, { old }), [
    'spec.containers: Forbidden: pod updates may not add or remove containers',
  ]);
});

test('update: activeDeadlineSeconds may only decrease', () => {
  const old = pod({ activeDeadlineSeconds: 100 });
  assert.deepEqual(check('pods', pod({ activeDeadlineSeconds: 50 }), { old: structuredClone(old) }), []);
  assert.deepEqual(check('pods', pod({ activeDeadlineSeconds: 200 }), { old: structuredClone(old) }), [
    'spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value',
  ]);
  assert.deepEqual(check('pods', pod(), { old: structuredClone(old) }), [
    'spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value',
  ]);
  assert.deepEqual(check('pods', pod({ activeDeadlineSeconds: 10 }), { old: pod() }), []);
});

test('update: tolerations may be added, not changed', () => {
  const t1 = { key: 'a', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 };
  const old = pod({ tolerations: [t1] });
  assert.deepEqual(
    check(
      'pods',
      pod({
        tolerations: [
          { ...t1, tolerationSeconds: 5 },
          { key: 'b', operator: 'Exists' },
        ],
      }),
      { old: structuredClone(old) },
    ),
    [],
  );
  assert.deepEqual(check('pods', pod({ tolerations: [] }), { old: structuredClone(old) }), [
    'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
  ]);
});

test('update: scheduling gates may only be removed', () => {
  const old = pod({ schedulingGates: [{ name: 'a' }] });
  assert.deepEqual(check('pods', pod(), { old: structuredClone(old) }), []);
  assert.deepEqual(
    check('pods', pod({ schedulingGates: [{ name: 'a' }, { name: 'b' }] }), { old: structuredClone(old) }),
    ["spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'b'"],
  );
});

test('update: nodeName is set by a binding, not by a plain update', () => {
  const old = pod();
  const bound = pod({ nodeName: 'node-1' });
  assert.equal(check('pods', structuredClone(bound), { old: structuredClone(old) }).length, 1);
  assert.deepEqual(check('pods', structuredClone(bound), { old: structuredClone(old), sub: 'binding' }), []);
  assert.equal(
    check('pods', pod({ nodeName: 'node-2' }), { old: structuredClone(bound), sub: 'binding' }).length,
    1,
  );
});

test('ephemeral containers: added through the subresource, not removed or changed', () => {
  const old = pod();
  const debug = { name: 'debug', image: 'busybox', targetContainerName: 'c' };
  const added = pod({ ephemeralContainers: [debug] });
  assert.deepEqual(
    check('pods', structuredClone(added), { old: structuredClone(old), sub: 'ephemeralcontainers' }),
    [],
  );
  assert.equal(check('pods', structuredClone(added), { old: structuredClone(old) }).length, 1);
  const stored = defaulted('pods', structuredClone(added));
  assert.deepEqual(
    check('pods', pod({ ephemeralContainers: [] }), {
      old: structuredClone(stored),
      sub: 'ephemeralcontainers',
    }),
    ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debug" may not be removed\n'],
  );
  assert.deepEqual(
    check(
      'pods',
      pod({
        ephemeralContainers: [
          { ...debug, ports: [{ containerPort: 80 }] },
          { name: 'c', image: 'x' },
        ],
      }),
      {
        old: structuredClone(old),
        sub: 'ephemeralcontainers',
      },
    ),
    [
      'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[1].name: Duplicate value: "c"',
    ],
  );
});

test('status updates: containers that may not restart stay terminated; IPs are valid', () => {
  const old = pod({ restartPolicy: 'Never' });
  (old.status as Record<string, unknown>).containerStatuses = [
    { name: 'c', state: { terminated: { exitCode: 0 } } },
  ];
  const next = structuredClone(old);
  (next.status as Record<string, unknown>).containerStatuses = [{ name: 'c', state: { running: {} } }];
  (next.status as Record<string, unknown>).podIPs = [{ ip: '10.1.0.5' }, { ip: '10.1.0.6' }];
  assert.deepEqual(check('pods', next, { old, sub: 'status' }), [
    'status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state',
    'status.podIPs: Invalid value: [{"ip":"10.1.0.5"},{"ip":"10.1.0.6"}]: may specify no more than one IP for each IP family',
  ]);
});

test('status updates: the QoS class is immutable', () => {
  const old = defaulted('pods', pod());
  const next = structuredClone(old);
  (next.status as Record<string, unknown>).qosClass = 'Guaranteed';
  assert.deepEqual(check('pods', next, { old, sub: 'status' }), [
    'status.qosClass: Invalid value: "Guaranteed": field is immutable',
  ]);
});

test('update: the mirror pod annotation may not be added', () => {
  const old = pod({ nodeName: 'n' });
  const next = structuredClone(old);
  (next.metadata as Record<string, unknown>).annotations = { 'kubernetes.io/config.mirror': 'x' };
  assert.deepEqual(check('pods', next, { old }), [
    'metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation',
  ]);
});
