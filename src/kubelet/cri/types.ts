/**
 * The CRI (runtime.v1) as the kubelet sees it: the subset of RuntimeService and ImageService skiff
 * calls, with the messages in the shape `@grpc/proto-loader` produces for the project's own
 * `api.proto` (field names in lowerCamelCase, enums as their names, int64 as `number`, every field
 * present with its proto default). Field meanings are upstream `cri-api`'s; see
 * k8s.io/cri-api/pkg/apis/runtime/v1/api.proto. Times are Unix nanoseconds.
 *
 * Every method rejects with a `CriError` (cri/errors.ts) carrying the gRPC status code when the
 * runtime answers with an error, and honours `signal` (the call is cancelled, the promise rejects
 * with an AbortError).
 */

export interface KeyValue {
  key: string;
  value: string;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
/** NamespaceMode: POD (shared by the pod), CONTAINER (own), NODE (the host's), TARGET. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}

export interface Int64Value {
  value: number;
}

export interface PortMapping {
  protocol?: Protocol;
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface DNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
}

export interface LinuxPodSandboxConfig {
  /** The pod's cgroup (cgroupfs path relative to the hierarchy root, e.g. /skiff/burstable/pod<uid>). */
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: Record<string, string>;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** Directory under which container logs are written (the kubelet's /var/log/pods/<ns>_<name>_<uid>). */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: LinuxPodSandboxConfig;
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandboxNetworkStatus {
  ip: string;
  additionalIps: { ip: string }[];
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  network?: PodSandboxNetworkStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: Record<string, string>;
}

export interface ImageSpec {
  image: string;
  annotations?: Record<string, string>;
}

export type MountPropagation =
  | 'PROPAGATION_PRIVATE'
  | 'PROPAGATION_HOST_TO_CONTAINER'
  | 'PROPAGATION_BIDIRECTIONAL';

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  propagation?: MountPropagation;
}

export interface ContainerMetadata {
  name: string;
  attempt: number;
}

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  /** Never negative on these machines (FACTS.md: runc fails without CAP_SYS_RESOURCE). */
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
}

export interface Capability {
  addCapabilities: string[];
  dropCapabilities: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface LinuxContainerConfig {
  resources?: LinuxContainerResources;
  securityContext?: LinuxContainerSecurityContext;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's logDirectory, e.g. "<container>/<restartCount>.log". */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
}

export type ContainerState =
  | 'CONTAINER_CREATED'
  | 'CONTAINER_RUNNING'
  | 'CONTAINER_EXITED'
  | 'CONTAINER_UNKNOWN';

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: ImageSpec;
  imageRef: string;
  /** E.g. "OOMKilled", "Error", "Completed" for exited containers. */
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  logPath: string;
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface StreamingRequest {
  containerId: string;
  cmd?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface UInt64Value {
  value: number;
}

export interface ContainerStats {
  attributes: {
    id: string;
    metadata: ContainerMetadata;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  cpu?: { timestamp: number; usageCoreNanoSeconds?: UInt64Value; usageNanoCores?: UInt64Value };
  memory?: {
    timestamp: number;
    workingSetBytes?: UInt64Value;
    usageBytes?: UInt64Value;
    rssBytes?: UInt64Value;
  };
  writableLayer?: { timestamp: number; usedBytes?: UInt64Value; inodesUsed?: UInt64Value };
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid?: Int64Value;
  username: string;
  spec?: ImageSpec;
  pinned: boolean;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface FilesystemUsage {
  timestamp: number;
  fsId?: { mountpoint: string };
  usedBytes?: UInt64Value;
  inodesUsed?: UInt64Value;
}

interface Call {
  signal?: AbortSignal;
}

/** CRI RuntimeService. */
export interface RuntimeService {
  version(opts?: Call): Promise<VersionResponse>;
  /** Runtime conditions (RuntimeReady, NetworkReady). */
  status(opts?: Call): Promise<RuntimeCondition[]>;

  runPodSandbox(config: PodSandboxConfig, opts?: Call & { runtimeHandler?: string }): Promise<string>;
  stopPodSandbox(podSandboxId: string, opts?: Call): Promise<void>;
  removePodSandbox(podSandboxId: string, opts?: Call): Promise<void>;
  /** Rejects with a CriError whose code is NOT_FOUND when the sandbox is gone. */
  podSandboxStatus(podSandboxId: string, opts?: Call): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: PodSandboxFilter, opts?: Call): Promise<PodSandbox[]>;

  createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    opts?: Call,
  ): Promise<string>;
  startContainer(containerId: string, opts?: Call): Promise<void>;
  /** Sends the stop signal, then SIGKILL after `timeoutSeconds` (0: at once). */
  stopContainer(containerId: string, timeoutSeconds: number, opts?: Call): Promise<void>;
  removeContainer(containerId: string, opts?: Call): Promise<void>;
  listContainers(filter?: ContainerFilter, opts?: Call): Promise<Container[]>;
  /** Rejects with a CriError whose code is NOT_FOUND when the container is gone. */
  containerStatus(containerId: string, opts?: Call): Promise<ContainerStatus>;
  updateContainerResources(containerId: string, linux: LinuxContainerResources, opts?: Call): Promise<void>;
  reopenContainerLog(containerId: string, opts?: Call): Promise<void>;

  /** Runs a command to completion; `timeoutSeconds` 0 means none. */
  execSync(
    containerId: string,
    cmd: string[],
    timeoutSeconds: number,
    opts?: Call,
  ): Promise<ExecSyncResponse>;
  /** Returns the runtime's streaming URL for an exec session. */
  exec(req: StreamingRequest, opts?: Call): Promise<string>;
  /** Returns the runtime's streaming URL for attaching to the container's stdio. */
  attach(req: Omit<StreamingRequest, 'cmd'>, opts?: Call): Promise<string>;
  /** Returns the runtime's streaming URL for port-forwarding into the sandbox. */
  portForward(podSandboxId: string, ports: number[], opts?: Call): Promise<string>;

  containerStats(containerId: string, opts?: Call): Promise<ContainerStats | undefined>;
  listContainerStats(filter?: ContainerFilter, opts?: Call): Promise<ContainerStats[]>;
}

/** CRI ImageService. */
export interface ImageService {
  listImages(opts?: Call): Promise<Image[]>;
  /** undefined when the image is not present. */
  imageStatus(image: string, opts?: Call): Promise<Image | undefined>;
  /** Pulls and returns the image reference (the image id / digest). */
  pullImage(image: string, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts?: Call): Promise<string>;
  removeImage(image: string, opts?: Call): Promise<void>;
  imageFsInfo(opts?: Call): Promise<FilesystemUsage[]>;
}

/** Both services, over one connection; `close()` ends it. */
export interface CriRuntime extends RuntimeService, ImageService {
  close(): void;
}
