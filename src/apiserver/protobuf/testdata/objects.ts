/** A Deployment with a realistic pod template. */
export const deployment: Record<string, unknown> = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'prod',
    uid: '3f1e0b8f-2c57-4a53-9d3a-6f1c2b1e0d3a',
    resourceVersion: '4711',
    generation: 4,
    creationTimestamp: '2026-03-04T05:06:07Z',
    labels: { app: 'web', tier: 'frontend' },
    annotations: { 'deployment.kubernetes.io/revision': '4' },
  },
  spec: {
    replicas: 3,
    selector: {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend', 'edge'] }],
    },
    template: {
      metadata: { labels: { app: 'web', tier: 'frontend' }, annotations: { 'prometheus.io/scrape': 'true' } },
      spec: {
        initContainers: [
          {
            name: 'migrate',
            image: 'busybox:1.36',
            command: ['sh', '-c', 'echo migrate'],
            resources: {},
            restartPolicy: 'Always',
          },
        ],
        containers: [
          {
            name: 'app',
            image: 'registry.example.com/web:4.2.0',
            args: ['--port=8080', '--verbose'],
            workingDir: '/srv',
            ports: [
              { name: 'http', containerPort: 8080, protocol: 'TCP' },
              { name: 'metrics', containerPort: 9090, hostPort: 19090, protocol: 'TCP' },
            ],
            envFrom: [
              { configMapRef: { name: 'web-config' } },
              { prefix: 'DB_', secretRef: { name: 'db', optional: true } },
            ],
            env: [
              { name: 'MODE', value: 'production' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
              {
                name: 'LIMIT',
                valueFrom: {
                  resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' },
                },
              },
              {
                name: 'LEVEL',
                valueFrom: { configMapKeyRef: { name: 'web-config', key: 'level', optional: false } },
              },
              { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
            ],
            resources: {
              limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '2Gi' },
              requests: { cpu: '250m', memory: '256Mi' },
            },
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'config', mountPath: '/etc/web', readOnly: true, subPath: 'web' },
            ],
            livenessProbe: {
              httpGet: {
                path: '/healthz',
                port: 'http',
                scheme: 'HTTP',
                httpHeaders: [{ name: 'X-Probe', value: 'live' }],
              },
              initialDelaySeconds: 10,
              timeoutSeconds: 1,
              periodSeconds: 10,
              successThreshold: 1,
              failureThreshold: 3,
            },
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
            startupProbe: {
              exec: { command: ['cat', '/tmp/started'] },
              failureThreshold: 30,
              terminationGracePeriodSeconds: 15,
            },
            lifecycle: { preStop: { sleep: { seconds: 5 } } },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            imagePullPolicy: 'IfNotPresent',
            securityContext: {
              capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
              runAsUser: 1000,
              runAsNonRoot: true,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              seccompProfile: { type: 'RuntimeDefault' },
            },
          },
        ],
        volumes: [
          { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
          {
            name: 'config',
            configMap: {
              name: 'web-config',
              items: [{ key: 'app.yaml', path: 'web/app.yaml', mode: 256 }],
              defaultMode: 420,
            },
          },
          { name: 'certs', secret: { secretName: 'tls', defaultMode: 288, optional: true } },
          { name: 'state', persistentVolumeClaim: { claimName: 'web-state' } },
          { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
          {
            name: 'token',
            projected: {
              sources: [
                { serviceAccountToken: { audience: 'vault', expirationSeconds: 3600, path: 'token' } },
                {
                  downwardAPI: {
                    items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }],
                  },
                },
              ],
              defaultMode: 420,
            },
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        serviceAccountName: 'web',
        automountServiceAccountToken: false,
        securityContext: {
          fsGroup: 2000,
          runAsGroup: 3000,
          sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }],
        },
        imagePullSecrets: [{ name: 'registry' }],
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  labelSelector: { matchLabels: { app: 'web' } },
                  topologyKey: 'kubernetes.io/hostname',
                },
              },
            ],
          },
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z9'] }] }],
            },
          },
        },
        schedulerName: 'default-scheduler',
        tolerations: [
          {
            key: 'node.kubernetes.io/not-ready',
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 300,
          },
          { key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' },
        ],
        priorityClassName: 'high',
        priority: 1000,
        enableServiceLinks: false,
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: { app: 'web' } },
          },
        ],
        hostnameOverride: 'web-host',
      },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
    minReadySeconds: 5,
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  },
  status: {
    observedGeneration: 4,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 2,
    availableReplicas: 2,
    unavailableReplicas: 1,
    terminatingReplicas: 0,
    conditions: [
      {
        type: 'Available',
        status: 'True',
        lastUpdateTime: '2026-03-04T05:07:00Z',
        lastTransitionTime: '2026-03-04T05:07:00Z',
        reason: 'MinimumReplicasAvailable',
        message: 'Deployment has minimum availability.',
      },
    ],
  },
};

/** A NodePort Service whose ports have a named and a numbered targetPort. */
export const service: Record<string, unknown> = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' } },
  spec: {
    ports: [
      { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 },
      {
        name: 'metrics',
        protocol: 'TCP',
        appProtocol: 'http',
        port: 9090,
        targetPort: 9091,
        nodePort: 30090,
      },
    ],
    selector: { app: 'web' },
    clusterIP: '10.43.0.17',
    clusterIPs: ['10.43.0.17'],
    type: 'NodePort',
    sessionAffinity: 'ClientIP',
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 31000,
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Cluster',
  },
  status: {
    loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] },
  },
};

export const namespace: Record<string, unknown> = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: 'prod',
    uid: 'b5a1c3d2-0000-4000-8000-000000000001',
    resourceVersion: '12',
    creationTimestamp: '2026-01-01T00:00:00Z',
    deletionTimestamp: '2026-01-02T00:00:00Z',
    labels: { 'kubernetes.io/metadata.name': 'prod' },
  },
  spec: { finalizers: ['kubernetes'] },
  status: {
    phase: 'Terminating',
    conditions: [
      {
        type: 'NamespaceContentRemaining',
        status: 'True',
        lastTransitionTime: '2026-01-02T00:00:01Z',
        reason: 'SomeResourcesRemain',
        message: 'Some resources are remaining: pods. has 1 resource instances',
      },
    ],
  },
};

export const job: Record<string, unknown> = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'migrate', namespace: 'prod', labels: { 'batch.kubernetes.io/job-name': 'migrate' } },
  spec: {
    parallelism: 2,
    completions: 4,
    activeDeadlineSeconds: 600,
    podFailurePolicy: {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [1, 42] } },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      ],
    },
    backoffLimit: 6,
    selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'c0ffee' } },
    manualSelector: false,
    template: {
      metadata: { labels: { 'batch.kubernetes.io/job-name': 'migrate' } },
      spec: {
        containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 0'], resources: {} }],
        restartPolicy: 'Never',
      },
    },
    ttlSecondsAfterFinished: 100,
    completionMode: 'Indexed',
    suspend: false,
    podReplacementPolicy: 'TerminatingOrFailed',
    backoffLimitPerIndex: 1,
    maxFailedIndexes: 2,
  },
  status: {
    conditions: [
      {
        type: 'Complete',
        status: 'True',
        lastProbeTime: '2026-03-04T05:10:00Z',
        lastTransitionTime: '2026-03-04T05:10:00Z',
      },
    ],
    startTime: '2026-03-04T05:06:07Z',
    completionTime: '2026-03-04T05:10:00Z',
    succeeded: 4,
    completedIndexes: '0-3',
    uncountedTerminatedPods: {},
    ready: 0,
    terminating: 0,
  },
};

/** A CRD whose schema uses every JSONSchemaProps union and number type. */
export const crd: Record<string, unknown> = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    names: {
      plural: 'widgets',
      singular: 'widget',
      shortNames: ['wd'],
      kind: 'Widget',
      listKind: 'WidgetList',
      categories: ['all'],
    },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                properties: {
                  replicas: {
                    type: 'integer',
                    format: 'int32',
                    minimum: 0,
                    maximum: 10.5,
                    exclusiveMaximum: true,
                    default: 1,
                  },
                  ratio: { type: 'number', multipleOf: 0.25 },
                  mode: {
                    type: 'string',
                    enum: ['fast', 'slow', null],
                    nullable: true,
                    pattern: '^[a-z]+$',
                    maxLength: 10,
                  },
                  tags: {
                    type: 'array',
                    items: { type: 'string' },
                    maxItems: 5,
                    'x-kubernetes-list-type': 'set',
                  },
                  pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] },
                  labels: { type: 'object', additionalProperties: { type: 'string' } },
                  closed: { type: 'object', additionalProperties: false },
                  open: { type: 'object', additionalProperties: true },
                  free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  port: {
                    'x-kubernetes-int-or-string': true,
                    anyOf: [{ type: 'integer' }, { type: 'string' }],
                  },
                  deps: { type: 'object', dependencies: { a: ['b', 'c'], d: { required: ['e'] } } },
                  example: { type: 'object', example: { a: [1, 'x', null, { b: true }] } },
                },
                'x-kubernetes-validations': [
                  {
                    rule: 'self.replicas >= 0',
                    message: 'no negatives',
                    reason: 'FieldValueInvalid',
                    fieldPath: '.replicas',
                  },
                ],
              },
            },
          },
        },
        subresources: {
          status: {},
          scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
        },
        additionalPrinterColumns: [
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', priority: 1 },
        ],
      },
    ],
    conversion: { strategy: 'None' },
  },
  status: {
    conditions: [
      {
        type: 'Established',
        status: 'True',
        lastTransitionTime: '2026-03-04T05:06:07Z',
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
      },
    ],
    acceptedNames: { plural: 'widgets', kind: 'Widget' },
    storedVersions: ['v1'],
  },
};

export const lease: Record<string, unknown> = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'node-1', namespace: 'kube-node-lease' },
  spec: {
    holderIdentity: 'node-1',
    leaseDurationSeconds: 40,
    acquireTime: '2026-03-04T05:06:07.000000Z',
    renewTime: '2026-03-04T05:06:47.123456Z',
    leaseTransitions: 0,
  },
};

export const eventsV1Event: Record<string, unknown> = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'web-1.17a', namespace: 'prod' },
  eventTime: '2026-03-04T05:06:07.654321Z',
  series: { count: 3, lastObservedTime: '2026-03-04T05:07:07.000001Z' },
  reportingController: 'default-scheduler',
  reportingInstance: 'default-scheduler-node-1',
  action: 'Binding',
  reason: 'Scheduled',
  regarding: {
    kind: 'Pod',
    namespace: 'prod',
    name: 'web-1',
    uid: 'u-1',
    apiVersion: 'v1',
    resourceVersion: '99',
  },
  note: 'Successfully assigned prod/web-1 to node-1',
  type: 'Normal',
  // A Go value (an EventSource struct): encoding/json shows it even when empty.
  deprecatedSource: {},
};

export const controllerRevision: Record<string, unknown> = {
  apiVersion: 'apps/v1',
  kind: 'ControllerRevision',
  metadata: { name: 'db-7c9f', namespace: 'prod' },
  data: {
    spec: {
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { containers: [{ name: 'db', image: 'postgres:17' }] },
      },
    },
  },
  revision: 3,
};

export const endpointSlice: Record<string, unknown> = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-abc12', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: [
    {
      addresses: ['10.42.0.7'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'prod', name: 'web-1', uid: 'u-1' },
      nodeName: 'node-1',
      zone: 'z1',
      hints: { forZones: [{ name: 'z1' }], forNodes: [{ name: 'node-1' }] },
    },
  ],
  ports: [{ name: 'http', protocol: 'TCP', port: 8080, appProtocol: 'http' }],
};

export const persistentVolume: Record<string, unknown> = {
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: 'pv-1' },
  spec: {
    capacity: { storage: '10Gi' },
    hostPath: { path: '/mnt/pv-1', type: 'DirectoryOrCreate' },
    accessModes: ['ReadWriteOnce'],
    claimRef: {
      kind: 'PersistentVolumeClaim',
      namespace: 'prod',
      name: 'data',
      uid: 'u-2',
      apiVersion: 'v1',
    },
    persistentVolumeReclaimPolicy: 'Retain',
    storageClassName: 'local',
    volumeMode: 'Filesystem',
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-1'] }] },
        ],
      },
    },
  },
  status: { phase: 'Bound', lastPhaseTransitionTime: '2026-03-04T05:06:07Z' },
};

export const tokenRequest: Record<string, unknown> = {
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenRequest',
  metadata: { name: 'bot', namespace: 'prod' },
  spec: {
    audiences: ['https://kubernetes.default.svc'],
    expirationSeconds: 3600,
    boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-1', uid: 'u-1' },
  },
  status: { token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln', expirationTimestamp: '2026-03-04T06:06:07Z' },
};

export const scale: Record<string, unknown> = {
  apiVersion: 'autoscaling/v1',
  kind: 'Scale',
  metadata: { name: 'web', namespace: 'prod', resourceVersion: '4711' },
  spec: { replicas: 5 },
  status: { replicas: 3, selector: 'app=web' },
};

export const binding: Record<string, unknown> = {
  apiVersion: 'v1',
  kind: 'Binding',
  metadata: { name: 'web-1', namespace: 'prod', uid: 'u-1' },
  target: { kind: 'Node', name: 'node-1', apiVersion: 'v1' },
};

export const eviction: Record<string, unknown> = {
  apiVersion: 'policy/v1',
  kind: 'Eviction',
  metadata: { name: 'web-1', namespace: 'prod' },
  deleteOptions: {
    gracePeriodSeconds: 0,
    preconditions: { uid: 'u-1' },
    propagationPolicy: 'Background',
    dryRun: ['All'],
  },
};

export const podList: Record<string, unknown> = {
  apiVersion: 'v1',
  kind: 'PodList',
  metadata: { resourceVersion: '5000', continue: 'eyJ2IjoxfQ', remainingItemCount: 7 },
  items: [
    {
      metadata: {
        name: 'web-1',
        namespace: 'prod',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'web-7c9f',
            uid: 'rs-1',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { containers: [{ name: 'app', image: 'nginx', resources: {} }], nodeName: 'node-1' },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-03-04T05:06:30Z' },
        ],
        hostIP: '192.0.2.1',
        hostIPs: [{ ip: '192.0.2.1' }],
        podIP: '10.42.0.7',
        podIPs: [{ ip: '10.42.0.7' }],
        startTime: '2026-03-04T05:06:08Z',
        containerStatuses: [
          {
            name: 'app',
            state: { running: { startedAt: '2026-03-04T05:06:20Z' } },
            lastState: {
              terminated: {
                exitCode: 137,
                signal: 9,
                reason: 'OOMKilled',
                startedAt: '2026-03-04T05:06:09Z',
                finishedAt: '2026-03-04T05:06:19Z',
                containerID: 'containerd://abc',
              },
            },
            ready: true,
            restartCount: 1,
            image: 'docker.io/library/nginx:latest',
            imageID: 'docker.io/library/nginx@sha256:0123',
            containerID: 'containerd://def',
            started: true,
            allocatedResources: { cpu: '100m' },
          },
        ],
        qosClass: 'BestEffort',
      },
    },
  ],
};
