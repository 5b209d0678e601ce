/** The JSON shapes of the core/v1 types (k8s.io/api/core/v1 types.go), for the decode-time type check. */
import { a, anyObj, o, quantityMap, type Shape, strMapShape, strs } from './shape.ts';

export const labelSelector = o({
  matchLabels: strMapShape,
  matchExpressions: a(o({ key: 'string', operator: 'string', values: strs })),
});

const localRef = o({ name: 'string' });
const optionalRef = o({ name: 'string', optional: 'bool' });
const keyToPath = o({ key: 'string', path: 'string', mode: 'int32' });
const fieldRef = o({ apiVersion: 'string', fieldPath: 'string' });
const resourceFieldRef = o({ containerName: 'string', resource: 'string', divisor: 'quantity' });
const downwardFile = o({ path: 'string', fieldRef, resourceFieldRef, mode: 'int32' });

export const resourceRequirements = o({
  limits: quantityMap,
  requests: quantityMap,
  claims: a(o({ name: 'string', request: 'string' })),
});

export const pvcSpec = o({
  accessModes: strs,
  selector: labelSelector,
  resources: o({ limits: quantityMap, requests: quantityMap }),
  volumeName: 'string',
  storageClassName: 'string',
  volumeMode: 'string',
  dataSource: o({ apiGroup: 'string', kind: 'string', name: 'string' }),
  dataSourceRef: o({ apiGroup: 'string', kind: 'string', name: 'string', namespace: 'string' }),
  volumeAttributesClassName: 'string',
});

const objectMetaLite = o({ labels: strMapShape, annotations: strMapShape, name: 'string' });

/** The volume sources shared by pods and persistent volumes. */
const commonSources: Record<string, Shape> = {
  hostPath: o({ path: 'string', type: 'string' }),
  gcePersistentDisk: o({ pdName: 'string', fsType: 'string', partition: 'int32', readOnly: 'bool' }),
  awsElasticBlockStore: o({ volumeID: 'string', fsType: 'string', partition: 'int32', readOnly: 'bool' }),
  nfs: o({ server: 'string', path: 'string', readOnly: 'bool' }),
  iscsi: o({ targetPortal: 'string', iqn: 'string', lun: 'int32', portals: strs }),
  glusterfs: o({ endpoints: 'string', path: 'string', readOnly: 'bool' }),
  rbd: o({ monitors: strs, image: 'string' }),
  flexVolume: o({ driver: 'string', options: strMapShape }),
  cinder: o({ volumeID: 'string' }),
  cephfs: o({ monitors: strs }),
  flocker: o({ datasetName: 'string', datasetUUID: 'string' }),
  fc: o({ targetWWNs: strs, lun: 'int32', wwids: strs }),
  azureFile: o({ secretName: 'string', shareName: 'string' }),
  vsphereVolume: o({ volumePath: 'string' }),
  quobyte: o({ registry: 'string', volume: 'string' }),
  azureDisk: o({ diskName: 'string', diskURI: 'string' }),
  photonPersistentDisk: o({ pdID: 'string' }),
  portworxVolume: o({ volumeID: 'string' }),
  scaleIO: o({ gateway: 'string', system: 'string', volumeName: 'string' }),
  storageos: o({ volumeName: 'string', volumeNamespace: 'string' }),
};

export const volume = o({
  name: 'string',
  ...commonSources,
  emptyDir: o({ medium: 'string', sizeLimit: 'quantity' }),
  gitRepo: o({ repository: 'string', revision: 'string', directory: 'string' }),
  secret: o({ secretName: 'string', items: a(keyToPath), defaultMode: 'int32', optional: 'bool' }),
  persistentVolumeClaim: o({ claimName: 'string', readOnly: 'bool' }),
  downwardAPI: o({ items: a(downwardFile), defaultMode: 'int32' }),
  configMap: o({ name: 'string', items: a(keyToPath), defaultMode: 'int32', optional: 'bool' }),
  projected: o({
    defaultMode: 'int32',
    sources: a(
      o({
        secret: o({ name: 'string', items: a(keyToPath), optional: 'bool' }),
        configMap: o({ name: 'string', items: a(keyToPath), optional: 'bool' }),
        downwardAPI: o({ items: a(downwardFile) }),
        serviceAccountToken: o({ audience: 'string', expirationSeconds: 'int64', path: 'string' }),
        clusterTrustBundle: o({ name: 'string', signerName: 'string', labelSelector, path: 'string' }),
        podCertificate: anyObj,
      }),
    ),
  }),
  csi: o({
    driver: 'string',
    readOnly: 'bool',
    fsType: 'string',
    volumeAttributes: strMapShape,
    nodePublishSecretRef: localRef,
  }),
  ephemeral: o({ volumeClaimTemplate: o({ metadata: objectMetaLite, spec: pvcSpec }) }),
  image: o({ reference: 'string', pullPolicy: 'string' }),
});

const httpGet = o({
  path: 'string',
  port: 'intstr',
  host: 'string',
  scheme: 'string',
  httpHeaders: a(o({ name: 'string', value: 'string' })),
});
const exec = o({ command: strs });
const tcpSocket = o({ port: 'intstr', host: 'string' });

const probe = o({
  exec,
  httpGet,
  tcpSocket,
  grpc: o({ port: 'int32', service: 'string' }),
  initialDelaySeconds: 'int32',
  timeoutSeconds: 'int32',
  periodSeconds: 'int32',
  successThreshold: 'int32',
  failureThreshold: 'int32',
  terminationGracePeriodSeconds: 'int64',
});
const handler = o({ exec, httpGet, tcpSocket, sleep: o({ seconds: 'int64' }) });

const seLinuxOptions = o({ user: 'string', role: 'string', type: 'string', level: 'string' });
const windowsOptions = o({
  gmsaCredentialSpecName: 'string',
  gmsaCredentialSpec: 'string',
  runAsUserName: 'string',
  hostProcess: 'bool',
});
const profile = o({ type: 'string', localhostProfile: 'string' });

export const securityContext = o({
  capabilities: o({ add: strs, drop: strs }),
  privileged: 'bool',
  seLinuxOptions,
  windowsOptions,
  runAsUser: 'int64',
  runAsGroup: 'int64',
  runAsNonRoot: 'bool',
  readOnlyRootFilesystem: 'bool',
  allowPrivilegeEscalation: 'bool',
  procMount: 'string',
  seccompProfile: profile,
  appArmorProfile: profile,
});

export const podSecurityContext = o({
  seLinuxOptions,
  windowsOptions,
  runAsUser: 'int64',
  runAsGroup: 'int64',
  runAsNonRoot: 'bool',
  supplementalGroups: a('int64'),
  supplementalGroupsPolicy: 'string',
  fsGroup: 'int64',
  sysctls: a(o({ name: 'string', value: 'string' })),
  fsGroupChangePolicy: 'string',
  seccompProfile: profile,
  appArmorProfile: profile,
  seLinuxChangePolicy: 'string',
});

const containerFields: Record<string, Shape> = {
  name: 'string',
  image: 'string',
  command: strs,
  args: strs,
  workingDir: 'string',
  ports: a(
    o({ name: 'string', hostPort: 'int32', containerPort: 'int32', protocol: 'string', hostIP: 'string' }),
  ),
  envFrom: a(o({ prefix: 'string', configMapRef: optionalRef, secretRef: optionalRef })),
  env: a(
    o({
      name: 'string',
      value: 'string',
      valueFrom: o({
        fieldRef,
        resourceFieldRef,
        configMapKeyRef: o({ name: 'string', key: 'string', optional: 'bool' }),
        secretKeyRef: o({ name: 'string', key: 'string', optional: 'bool' }),
      }),
    }),
  ),
  resources: resourceRequirements,
  resizePolicy: a(o({ resourceName: 'string', restartPolicy: 'string' })),
  restartPolicy: 'string',
  volumeMounts: a(
    o({
      name: 'string',
      readOnly: 'bool',
      recursiveReadOnly: 'string',
      mountPath: 'string',
      subPath: 'string',
      mountPropagation: 'string',
      subPathExpr: 'string',
    }),
  ),
  volumeDevices: a(o({ name: 'string', devicePath: 'string' })),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: o({ postStart: handler, preStop: handler, stopSignal: 'string' }),
  terminationMessagePath: 'string',
  terminationMessagePolicy: 'string',
  imagePullPolicy: 'string',
  securityContext,
  stdin: 'bool',
  stdinOnce: 'bool',
  tty: 'bool',
};

export const container = o(containerFields);
export const ephemeralContainer = o({ ...containerFields, targetContainerName: 'string' });

const nodeSelectorRequirement = o({ key: 'string', operator: 'string', values: strs });
const nodeSelectorTerm = o({
  matchExpressions: a(nodeSelectorRequirement),
  matchFields: a(nodeSelectorRequirement),
});
export const nodeSelector = o({ nodeSelectorTerms: a(nodeSelectorTerm) });
const podAffinityTerm = o({
  labelSelector,
  namespaces: strs,
  topologyKey: 'string',
  namespaceSelector: labelSelector,
  matchLabelKeys: strs,
  mismatchLabelKeys: strs,
});
const podAffinity = o({
  requiredDuringSchedulingIgnoredDuringExecution: a(podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: a(o({ weight: 'int32', podAffinityTerm })),
});

export const toleration = o({
  key: 'string',
  operator: 'string',
  value: 'string',
  effect: 'string',
  tolerationSeconds: 'int64',
});

export const podSpec = o({
  volumes: a(volume),
  initContainers: a(container),
  containers: a(container),
  ephemeralContainers: a(ephemeralContainer),
  restartPolicy: 'string',
  terminationGracePeriodSeconds: 'int64',
  activeDeadlineSeconds: 'int64',
  dnsPolicy: 'string',
  nodeSelector: strMapShape,
  serviceAccountName: 'string',
  serviceAccount: 'string',
  automountServiceAccountToken: 'bool',
  nodeName: 'string',
  hostNetwork: 'bool',
  hostPID: 'bool',
  hostIPC: 'bool',
  shareProcessNamespace: 'bool',
  securityContext: podSecurityContext,
  imagePullSecrets: a(anyObj),
  hostname: 'string',
  subdomain: 'string',
  affinity: o({
    nodeAffinity: o({
      requiredDuringSchedulingIgnoredDuringExecution: nodeSelector,
      preferredDuringSchedulingIgnoredDuringExecution: a(
        o({ weight: 'int32', preference: nodeSelectorTerm }),
      ),
    }),
    podAffinity,
    podAntiAffinity: podAffinity,
  }),
  schedulerName: 'string',
  tolerations: a(toleration),
  hostAliases: a(o({ ip: 'string', hostnames: strs })),
  priorityClassName: 'string',
  priority: 'int32',
  dnsConfig: o({ nameservers: strs, searches: strs, options: a(o({ name: 'string', value: 'string' })) }),
  readinessGates: a(o({ conditionType: 'string' })),
  runtimeClassName: 'string',
  enableServiceLinks: 'bool',
  preemptionPolicy: 'string',
  overhead: quantityMap,
  topologySpreadConstraints: a(
    o({
      maxSkew: 'int32',
      topologyKey: 'string',
      whenUnsatisfiable: 'string',
      labelSelector,
      minDomains: 'int32',
      nodeAffinityPolicy: 'string',
      nodeTaintsPolicy: 'string',
      matchLabelKeys: strs,
    }),
  ),
  setHostnameAsFQDN: 'bool',
  os: o({ name: 'string' }),
  hostUsers: 'bool',
  schedulingGates: a(o({ name: 'string' })),
  resourceClaims: a(o({ name: 'string', resourceClaimName: 'string', resourceClaimTemplateName: 'string' })),
  resources: resourceRequirements,
});

export const podTemplateSpec = o({ metadata: objectMetaLite, spec: podSpec });

const containerState = o({
  waiting: anyObj,
  running: anyObj,
  terminated: o({ exitCode: 'int32', signal: 'int32', reason: 'string', message: 'string' }),
});
const containerStatus = o({
  name: 'string',
  state: containerState,
  lastState: containerState,
  ready: 'bool',
  restartCount: 'int32',
  image: 'string',
  imageID: 'string',
  containerID: 'string',
  started: 'bool',
});

export const podStatus = o({
  phase: 'string',
  conditions: a(o({ type: 'string', status: 'string', reason: 'string', message: 'string' })),
  message: 'string',
  reason: 'string',
  nominatedNodeName: 'string',
  hostIP: 'string',
  hostIPs: a(o({ ip: 'string' })),
  podIP: 'string',
  podIPs: a(o({ ip: 'string' })),
  startTime: 'string',
  initContainerStatuses: a(containerStatus),
  containerStatuses: a(containerStatus),
  ephemeralContainerStatuses: a(containerStatus),
  qosClass: 'string',
});

// ---- other kinds

export const serviceSpec = o({
  ports: a(
    o({
      name: 'string',
      protocol: 'string',
      appProtocol: 'string',
      port: 'int32',
      targetPort: 'intstr',
      nodePort: 'int32',
    }),
  ),
  selector: strMapShape,
  clusterIP: 'string',
  clusterIPs: strs,
  type: 'string',
  externalIPs: strs,
  sessionAffinity: 'string',
  loadBalancerIP: 'string',
  loadBalancerSourceRanges: strs,
  externalName: 'string',
  externalTrafficPolicy: 'string',
  healthCheckNodePort: 'int32',
  publishNotReadyAddresses: 'bool',
  sessionAffinityConfig: o({ clientIP: o({ timeoutSeconds: 'int32' }) }),
  ipFamilies: strs,
  ipFamilyPolicy: 'string',
  allocateLoadBalancerNodePorts: 'bool',
  loadBalancerClass: 'string',
  internalTrafficPolicy: 'string',
  trafficDistribution: 'string',
});

export const serviceStatus = o({
  loadBalancer: o({
    ingress: a(o({ ip: 'string', hostname: 'string', ipMode: 'string', ports: a(anyObj) })),
  }),
  conditions: a(anyObj),
});

export const taint = o({ key: 'string', value: 'string', effect: 'string', timeAdded: 'string' });

export const nodeSpec = o({
  podCIDR: 'string',
  podCIDRs: strs,
  providerID: 'string',
  unschedulable: 'bool',
  taints: a(taint),
  configSource: anyObj,
  externalID: 'string',
});

export const nodeStatus = o({
  capacity: quantityMap,
  allocatable: quantityMap,
  phase: 'string',
  conditions: a(o({ type: 'string', status: 'string' })),
  addresses: a(o({ type: 'string', address: 'string' })),
  daemonEndpoints: o({ kubeletEndpoint: o({ Port: 'int32' }) }),
  nodeInfo: anyObj,
  images: a(o({ names: strs, sizeBytes: 'int64' })),
  volumesInUse: strs,
  volumesAttached: a(anyObj),
  config: anyObj,
});

export const pvSpec = o({
  ...commonSources,
  capacity: quantityMap,
  accessModes: strs,
  claimRef: anyObj,
  persistentVolumeReclaimPolicy: 'string',
  storageClassName: 'string',
  mountOptions: strs,
  volumeMode: 'string',
  nodeAffinity: o({ required: nodeSelector }),
  volumeAttributesClassName: 'string',
  local: o({ path: 'string', fsType: 'string' }),
  csi: o({
    driver: 'string',
    volumeHandle: 'string',
    readOnly: 'bool',
    fsType: 'string',
    volumeAttributes: strMapShape,
    controllerPublishSecretRef: o({ name: 'string', namespace: 'string' }),
    nodeStageSecretRef: o({ name: 'string', namespace: 'string' }),
    nodePublishSecretRef: o({ name: 'string', namespace: 'string' }),
    controllerExpandSecretRef: o({ name: 'string', namespace: 'string' }),
    nodeExpandSecretRef: o({ name: 'string', namespace: 'string' }),
  }),
});

export const pvcStatus = o({
  phase: 'string',
  accessModes: strs,
  capacity: quantityMap,
  conditions: a(anyObj),
  allocatedResources: quantityMap,
  allocatedResourceStatuses: strMapShape,
});

const endpointAddress = o({ ip: 'string', hostname: 'string', nodeName: 'string', targetRef: anyObj });
export const endpointSubsets = a(
  o({
    addresses: a(endpointAddress),
    notReadyAddresses: a(endpointAddress),
    ports: a(o({ name: 'string', port: 'int32', protocol: 'string', appProtocol: 'string' })),
  }),
);

export const limitRangeSpec = o({
  limits: a(
    o({
      type: 'string',
      max: quantityMap,
      min: quantityMap,
      default: quantityMap,
      defaultRequest: quantityMap,
      maxLimitRequestRatio: quantityMap,
    }),
  ),
});

export const resourceQuotaSpec = o({
  hard: quantityMap,
  scopes: strs,
  scopeSelector: o({ matchExpressions: a(o({ scopeName: 'string', operator: 'string', values: strs })) }),
});
export const resourceQuotaStatus = o({ hard: quantityMap, used: quantityMap });

export const eventShape = o({
  involvedObject: o({
    kind: 'string',
    namespace: 'string',
    name: 'string',
    uid: 'string',
    apiVersion: 'string',
    resourceVersion: 'string',
    fieldPath: 'string',
  }),
  reason: 'string',
  message: 'string',
  source: o({ component: 'string', host: 'string' }),
  firstTimestamp: 'string',
  lastTimestamp: 'string',
  count: 'int32',
  type: 'string',
  eventTime: 'string',
  series: o({ count: 'int32', lastObservedTime: 'string' }),
  action: 'string',
  related: anyObj,
  reportingComponent: 'string',
  reportingInstance: 'string',
});

export const serviceAccountShape = o({
  secrets: a(anyObj),
  imagePullSecrets: a(localRef),
  automountServiceAccountToken: 'bool',
});
