import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted, pod, podWith } from './testing.ts';

const LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

test('container defaults: pull policy from the tag, termination message, port protocol, resources {}', () => {
  const p = defaulted(
    'pods',
    pod({
      containers: [
        { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }] },
        { name: 'b', image: 'nginx:latest' },
        { name: 'c', image: 'nginx:1.27' },
        { name: 'd', image: `registry:5000/app@sha256:${'a'.repeat(64)}` },
        { name: 'e', image: 'nginx', imagePullPolicy: 'Never' },
      ],
    }),
  );
  const cs = (p.spec as { containers: Record<string, unknown>[] }).containers;
  assert.deepEqual(
    cs.map((c) => c.imagePullPolicy),
    ['Always', 'Always', 'IfNotPresent', 'IfNotPresent', 'Never'],
  );
  assert.equal(cs[0]?.terminationMessagePath, '/dev/termination-log');
  assert.equal(cs[0]?.terminationMessagePolicy, 'File');
  assert.deepEqual(cs[0]?.ports, [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(cs[0]?.resources, {});
});

test('probe defaults: timings and HTTP path/scheme; grpc service ""', () => {
  const p = defaulted(
    'pods',
    podWith({
      livenessProbe: { httpGet: { port: 8080 } },
      readinessProbe: { grpc: { port: 9000 }, periodSeconds: 5 },
      lifecycle: { preStop: { httpGet: { port: 80 } } },
    }),
  );
  const c = (p.spec as { containers: Record<string, Record<string, unknown>>[] }).containers[0]!;
  assert.deepEqual(c.livenessProbe, {
    httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.equal(c.readinessProbe?.periodSeconds, 5);
  assert.deepEqual(c.readinessProbe?.grpc, { port: 9000, service: '' });
  assert.deepEqual((c.lifecycle?.preStop as Record<string, unknown> | undefined)?.httpGet, {
    port: 80,
    path: '/',
    scheme: 'HTTP',
  });
});

test('container name and image are required; names are DNS labels and unique', () => {
  assert.deepEqual(check('pods', pod({ containers: [{}] })), [
    'spec.containers[0].name: Required value',
    'spec.containers[0].image: Required value',
  ]);
  assert.deepEqual(check('pods', pod({ containers: [{ name: 'Web', image: 'x' }] })), [
    `spec.containers[0].name: Invalid value: "Web": ${LABEL_ERR}`,
  ]);
  assert.deepEqual(
    check(
      'pods',
      pod({
        containers: [
          { name: 'a', image: 'x' },
          { name: 'a', image: 'y' },
        ],
      }),
    ),
    ['spec.containers[1].name: Duplicate value: "a"'],
  );
  assert.deepEqual(check('pods', pod({ containers: [] })), ['spec.containers: Required value']);
});

test('pod images may not have surrounding whitespace', () => {
  assert.deepEqual(check('pods', podWith({ image: ' nginx' })), [
    'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
  ]);
});

test('container ports: range, required, names, protocol', () => {
  assert.deepEqual(check('pods', podWith({ ports: [{ containerPort: 70000 }] })), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  assert.deepEqual(check('pods', podWith({ ports: [{ name: 'http' }] })), [
    'spec.containers[0].ports[0].containerPort: Required value',
  ]);
  assert.deepEqual(
    check(
      'pods',
      podWith({
        ports: [
          { containerPort: 80, name: 'web' },
          { containerPort: 81, name: 'web' },
        ],
      }),
    ),
    ['spec.containers[0].ports[1].name: Duplicate value: "web"'],
  );
  assert.deepEqual(check('pods', podWith({ ports: [{ containerPort: 80, protocol: 'HTTP' }] })), [
    'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
  ]);
  assert.deepEqual(check('pods', podWith({ ports: [{ containerPort: 80, name: 'Web' }] })), [
    'spec.containers[0].ports[0].name: Invalid value: "Web": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
  ]);
});

test('host ports may not collide across containers', () => {
  const errs = check(
    'pods',
    pod({
      containers: [
        { name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] },
        { name: 'b', image: 'x', ports: [{ containerPort: 81, hostPort: 8080 }] },
      ],
    }),
  );
  assert.deepEqual(errs, ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']);
});

test('env: names (relaxed), valueFrom sources', () => {
  assert.deepEqual(check('pods', podWith({ env: [{ value: 'x' }] })), [
    'spec.containers[0].env[0].name: Required value',
  ]);
  assert.deepEqual(check('pods', podWith({ env: [{ name: 'A=B' }] })), [
    `spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
  ]);
  assert.deepEqual(check('pods', podWith({ env: [{ name: 'my.var-1', value: 'x' }] })), []);
  assert.deepEqual(check('pods', podWith({ env: [{ name: 'A', valueFrom: {} }] })), [
    'spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
  ]);
  assert.deepEqual(
    check(
      'pods',
      podWith({ env: [{ name: 'A', value: 'v', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }),
    ),
    [
      'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
    ],
  );
  assert.deepEqual(
    check('pods', podWith({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.foo' } } }] })),
    [
      'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error converting fieldPath: field label not supported: spec.foo',
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      podWith({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } }] }),
    ),
    [
      'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      podWith({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }] }),
    ),
    [],
  );
  assert.deepEqual(
    check('pods', podWith({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm' } } }] })),
    ['spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value'],
  );
  assert.deepEqual(
    check(
      'pods',
      podWith({ env: [{ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] }),
    ),
    [
      'spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"',
    ],
  );
});

test('env fieldRef apiVersion defaults to v1', () => {
  const p = defaulted(
    'pods',
    podWith({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }),
  );
  const env = (p.spec as { containers: { env: { valueFrom: { fieldRef: unknown } }[] }[] }).containers[0]!
    .env[0]!;
  assert.deepEqual(env.valueFrom.fieldRef, { fieldPath: 'metadata.name', apiVersion: 'v1' });
});

test('envFrom needs exactly one source', () => {
  assert.deepEqual(check('pods', podWith({ envFrom: [{ prefix: 'P_' }] })), [
    'spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`',
  ]);
  assert.deepEqual(check('pods', podWith({ envFrom: [{ configMapRef: {} }] })), [
    'spec.containers[0].envFrom[0].configMapRef.name: Required value',
  ]);
});

test("resources: requests ≤ limits, with Kubernetes' message", () => {
  const errs = check('pods', podWith({ resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } }));
  assert.deepEqual(errs, [
    'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
  ]);
  assert.deepEqual(
    check('pods', podWith({ resources: { limits: { memory: '1Gi' }, requests: { memory: '512Mi' } } })),
    [],
  );
});

test('resources: names, negative values, extended resources must equal their limits', () => {
  assert.deepEqual(check('pods', podWith({ resources: { requests: { cpu: '-1' } } })), [
    'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
  ]);
  assert.deepEqual(check('pods', podWith({ resources: { requests: { foo: '1' } } })), [
    'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard resource type or fully qualified',
    'spec.containers[0].resources.requests[foo]: Invalid value: "foo": must be a standard resource for containers',
  ]);
  assert.deepEqual(check('pods', podWith({ resources: { requests: { 'example.com/gpu': '1' } } })), [
    'spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources',
  ]);
  assert.deepEqual(check('pods', podWith({ resources: { limits: { 'example.com/gpu': '1.5' } } })), [
    'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "1500m": must be an integer',
    'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "1500m": must be an integer',
  ]);
});

test('resources: hugepages need cpu or memory', () => {
  assert.deepEqual(check('pods', podWith({ resources: { limits: { 'hugepages-2Mi': '2Mi' } } })), [
    'spec.containers[0].resources: Forbidden: HugePages require cpu or memory',
  ]);
});

test('resource quantities are stored in canonical form, rounded up to millis', () => {
  const p = defaulted(
    'pods',
    podWith({ resources: { limits: { cpu: 0.5, memory: '1.5Gi' }, requests: { cpu: '0.0001' } } }),
  );
  const r = (p.spec as { containers: { resources: unknown }[] }).containers[0]!.resources;
  assert.deepEqual(r, {
    limits: { cpu: '500m', memory: '1536Mi' },
    requests: { cpu: '1m', memory: '1536Mi' },
  });
});

test('volumeMounts reference existing volumes, with unique mount paths', () => {
  assert.deepEqual(check('pods', podWith({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })), [
    'spec.containers[0].volumeMounts[0].name: Not found: "data"',
  ]);
  const spec = { volumes: [{ name: 'data', emptyDir: {} }] };
  assert.deepEqual(
    check(
      'pods',
      podWith(
        {
          volumeMounts: [
            { name: 'data', mountPath: '/data' },
            { name: 'data', mountPath: '/data' },
          ],
        },
        spec,
      ),
    ),
    ['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique'],
  );
  assert.deepEqual(check('pods', podWith({ volumeMounts: [{ name: 'data' }] }, spec)), [
    'spec.containers[0].volumeMounts[0].mountPath: Required value',
  ]);
  assert.deepEqual(
    check('pods', podWith({ volumeMounts: [{ name: 'data', mountPath: '/d', subPath: '../x' }] }, spec)),
    [`spec.containers[0].volumeMounts.subPath: Invalid value: "../x": must not contain '..'`],
  );
  assert.deepEqual(
    check(
      'pods',
      podWith({ volumeMounts: [{ name: 'data', mountPath: '/d', mountPropagation: 'Bidirectional' }] }, spec),
    ),
    [
      'spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers',
    ],
  );
});

test('volumeDevices need a PVC-backed volume', () => {
  const errs = check(
    'pods',
    podWith(
      { volumeDevices: [{ name: 'data', devicePath: '/dev/xvda' }] },
      { volumes: [{ name: 'data', emptyDir: {} }] },
    ),
  );
  assert.deepEqual(errs, [
    'spec.containers[0].volumeDevices[0].name: Invalid value: "data": can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode',
  ]);
});

test('imagePullPolicy and terminationMessagePolicy values', () => {
  assert.deepEqual(check('pods', podWith({ imagePullPolicy: 'Sometimes' })), [
    'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
  ]);
  assert.deepEqual(check('pods', podWith({ terminationMessagePolicy: 'Foo' })), [
    'spec.containers[0].terminationMessagePolicy: Unsupported value: "Foo": supported values: "File", "FallbackToLogsOnError"',
  ]);
});

test('probes: one handler, thresholds, liveness successThreshold 1', () => {
  assert.deepEqual(check('pods', podWith({ livenessProbe: {} })), [
    'spec.containers[0].livenessProbe: Required value: must specify a handler type',
  ]);
  assert.deepEqual(
    check('pods', podWith({ livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } })),
    ['spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
  );
  assert.deepEqual(
    check('pods', podWith({ livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } })),
    ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
  );
  assert.deepEqual(
    check('pods', podWith({ readinessProbe: { httpGet: { port: 0 }, initialDelaySeconds: -1 } })),
    [
      'spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0',
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      podWith({ readinessProbe: { exec: { command: ['x'] }, terminationGracePeriodSeconds: 5 } }),
    ),
    [
      'spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes',
    ],
  );
  assert.deepEqual(
    check('pods', podWith({ startupProbe: { httpGet: { port: 'http-port', scheme: 'FTP' } } })),
    [
      'spec.containers[0].startupProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"',
    ],
  );
});

test('lifecycle sleep may not exceed the grace period', () => {
  assert.deepEqual(check('pods', podWith({ lifecycle: { preStop: { sleep: { seconds: 60 } } } })), [
    'spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)',
  ]);
});

test('restartPolicy is for init containers only; init containers without it get no probes', () => {
  assert.deepEqual(check('pods', podWith({ restartPolicy: 'Always' })), [
    'spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers',
  ]);
  assert.deepEqual(
    check(
      'pods',
      pod({ initContainers: [{ name: 'i', image: 'x', readinessProbe: { exec: { command: ['x'] } } }] }),
    ),
    [
      'spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
    ],
  );
  assert.deepEqual(
    check(
      'pods',
      pod({
        initContainers: [
          { name: 'i', image: 'x', restartPolicy: 'Always', readinessProbe: { exec: { command: ['x'] } } },
        ],
      }),
    ),
    [],
  );
  assert.deepEqual(
    check('pods', pod({ initContainers: [{ name: 'c', image: 'x', restartPolicy: 'OnFailure' }] })),
    [
      'spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
      'spec.initContainers[0].name: Duplicate value: "c"',
    ],
  );
});

test('container security context', () => {
  assert.deepEqual(check('pods', podWith({ securityContext: { runAsUser: -1 } })), [
    'spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive',
  ]);
  assert.deepEqual(
    check('pods', podWith({ securityContext: { allowPrivilegeEscalation: false, privileged: true } })),
    [
      'spec.containers[0].securityContext: Invalid value: {"allowPrivilegeEscalation":false,"privileged":true}: cannot set `allowPrivilegeEscalation` to false and `privileged` to true',
    ],
  );
  assert.deepEqual(check('pods', podWith({ securityContext: { seccompProfile: { type: 'Localhost' } } })), [
    'spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost',
  ]);
  assert.deepEqual(check('pods', podWith({ securityContext: { procMount: 'Unmasked' } })), [
    'spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`',
  ]);
});
