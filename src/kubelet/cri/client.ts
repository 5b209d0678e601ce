/**
 * A CRI client over gRPC (runtime.v1) for containerd or any CRI runtime listening on a unix socket.
 *
 * Contract:
 *  - One HTTP/2 connection serves both RuntimeService and ImageService; it connects lazily and
 *    reconnects by itself. While the runtime is down, calls fail fast with a CriError UNAVAILABLE.
 *  - Every call has a deadline: `timeoutMs` (default 2 min, the kubelet's runtime-request-timeout);
 *    StopContainer and ExecSync add their own timeout to it; PullImage has none unless
 *    `pullTimeoutMs` is set (the kubelet's pulls are bounded by the caller). A missed deadline
 *    rejects with CriError DEADLINE_EXCEEDED.
 *  - An aborted `signal` cancels the call and rejects with the signal's reason (an AbortError).
 *  - Results are types.ts shapes: absent optional messages are `undefined` (never null).
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { GrpcChannel, GrpcError } from '../../util/grpc.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { CriError, GrpcCode } from './errors.ts';
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatus,
  CriRuntime,
  ExecSyncResponse,
  FilesystemUsage,
  Image,
  LinuxContainerResources,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  RuntimeCondition,
  StreamingRequest,
  VersionResponse,
} from './types.ts';

export interface CriClientOptions {
  /** Deadline of each call, in ms (default 120 000). */
  timeoutMs?: number;
  /** Deadline of PullImage, in ms; 0 (the default) means none. */
  pullTimeoutMs?: number;
  /** Largest message sent or received, in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  /** Logs each call at debug level with its duration. */
  logger?: Logger;
}

interface Call {
  signal?: AbortSignal;
}

/** One CRI method: its gRPC path and how its messages are encoded and decoded. */
interface Method {
  path: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Buffer): unknown;
}

const PROTO_PATH = fileURLToPath(new URL('./api.proto', import.meta.url));
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;
/** The CRI API version the kubelet reports in VersionRequest. */
const KUBELET_API_VERSION = '0.1.0';

let methods: Map<string, Method> | undefined;

/** How a response becomes a types.ts shape: @grpc/proto-loader's conversion, with these options. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

/**
 * Loads api.proto once per process, with protobufjs as @grpc/proto-loader does (field names in
 * lowerCamelCase, the same object conversion). Not through proto-loader itself: it also encodes
 * descriptor protos for reflection, which a kubelet never uses and would keep (~1.3 MB of heap).
 * Keyed by method name: RuntimeService and ImageService share none.
 */
function loadMethods(): Map<string, Method> {
  if (methods) return methods;
  const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: false });
  root.resolveAll();
  const out = new Map<string, Method>();
  for (const name of ['RuntimeService', 'ImageService']) {
    for (const m of root.lookupService(`runtime.v1.${name}`).methodsArray) {
      const request = m.resolvedRequestType!;
      const response = m.resolvedResponseType!;
      out.set(m.name, {
        path: `/runtime.v1.${name}/${m.name}`,
        encode: (value) => request.encode(request.fromObject(value as Record<string, unknown>)).finish(),
        decode: (bytes) => response.toObject(response.decode(bytes), TO_OBJECT),
      });
    }
  }
  methods = out;
  return out;
}

/** The gRPC target for a socket path (`/run/x.sock` or `unix:///run/x.sock`). */
export function socketTarget(socketPath: string): string {
  if (socketPath.startsWith('unix:')) return socketPath;
  return `unix://${socketPath}`;
}

/** Connects (lazily) to the CRI runtime at `socketPath`. */
export function createCriRuntime(socketPath: string, opts: CriClientOptions = {}): CriRuntime {
  return new GrpcCriRuntime(socketPath, opts);
}

class GrpcCriRuntime implements CriRuntime {
  readonly #channel: GrpcChannel;
  readonly #methods: Map<string, Method>;
  readonly #timeoutMs: number;
  readonly #pullTimeoutMs: number;
  readonly #log: Logger;

  constructor(socketPath: string, opts: CriClientOptions) {
    this.#methods = loadMethods();
    const path = socketPath.startsWith('unix://')
      ? socketPath.slice('unix://'.length)
      : socketPath.replace(/^unix:/, '');
    this.#channel = new GrpcChannel(
      { socketPath: path },
      { maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE },
    );
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#pullTimeoutMs = opts.pullTimeoutMs ?? 0;
    this.#log = opts.logger ?? silentLogger;
  }

  /** One unary call with a deadline (0: none) and cancellation by `signal`. */
  async #call<T>(method: string, req: unknown, call: Call | undefined, timeoutMs: number): Promise<T> {
    const m = this.#methods.get(method);
    if (!m) throw new Error(`CRI client: no method ${method}`);
    let body: Uint8Array;
    try {
      body = m.encode(req);
    } catch (err) {
      // Nothing was sent: a request that does not serialise.
      throw new CriError(
        method,
        GrpcCode.FAILED_PRECONDITION,
        err instanceof Error ? err.message : String(err),
        {
          cause: err,
        },
      );
    }
    const started = performance.now();
    let res: Buffer;
    try {
      res = await this.#channel.unary(m.path, body, { deadlineMs: timeoutMs, signal: call?.signal });
    } catch (err) {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      if (!(err instanceof GrpcError)) {
        this.#log.debug({ method, ms }, 'cri call aborted');
        throw err;
      }
      this.#log.debug({ method, ms, code: err.code, details: err.details }, 'cri call failed');
      throw new CriError(method, err.code, err.details, { cause: err });
    }
    this.#log.debug({ method, ms: Math.round((performance.now() - started) * 10) / 10 }, 'cri call');
    try {
      return denull(m.decode(res)) as T;
    } catch (err) {
      throw new CriError(
        method,
        GrpcCode.INTERNAL,
        `response does not decode: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  #rt<T>(method: string, req: unknown, call?: Call, extraMs = 0): Promise<T> {
    return this.#call<T>(method, req, call, this.#timeoutMs + extraMs);
  }

  #img<T>(method: string, req: unknown, call?: Call, timeoutMs = this.#timeoutMs): Promise<T> {
    return this.#call<T>(method, req, call, timeoutMs);
  }

  // ---- RuntimeService --------------------------------------------------------------------------

  version(opts?: Call): Promise<VersionResponse> {
    return this.#rt<VersionResponse>('Version', { version: KUBELET_API_VERSION }, opts);
  }

  async status(opts?: Call): Promise<RuntimeCondition[]> {
    const res = await this.#rt<{ status?: { conditions: RuntimeCondition[] } }>(
      'Status',
      { verbose: false },
      opts,
    );
    return res.status?.conditions ?? [];
  }

  async runPodSandbox(config: PodSandboxConfig, opts?: Call & { runtimeHandler?: string }): Promise<string> {
    const res = await this.#rt<{ podSandboxId: string }>(
      'RunPodSandbox',
      { config, runtimeHandler: opts?.runtimeHandler ?? '' },
      opts,
    );
    return res.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string, opts?: Call): Promise<void> {
    await this.#rt('StopPodSandbox', { podSandboxId }, opts);
  }

  async removePodSandbox(podSandboxId: string, opts?: Call): Promise<void> {
    await this.#rt('RemovePodSandbox', { podSandboxId }, opts);
  }

  async podSandboxStatus(podSandboxId: string, opts?: Call): Promise<PodSandboxStatus> {
    const res = await this.#rt<{ status?: PodSandboxStatus }>(
      'PodSandboxStatus',
      { podSandboxId, verbose: false },
      opts,
    );
    if (!res.status)
      throw new CriError('PodSandboxStatus', GrpcCode.NOT_FOUND, `no status for sandbox ${podSandboxId}`);
    return res.status;
  }

  async listPodSandbox(filter?: PodSandboxFilter, opts?: Call): Promise<PodSandbox[]> {
    const res = await this.#rt<{ items: PodSandbox[] }>('ListPodSandbox', { filter }, opts);
    return res.items;
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    opts?: Call,
  ): Promise<string> {
    const res = await this.#rt<{ containerId: string }>(
      'CreateContainer',
      { podSandboxId, config, sandboxConfig },
      opts,
    );
    return res.containerId;
  }

  async startContainer(containerId: string, opts?: Call): Promise<void> {
    await this.#rt('StartContainer', { containerId }, opts);
  }

  async stopContainer(containerId: string, timeoutSeconds: number, opts?: Call): Promise<void> {
    await this.#rt(
      'StopContainer',
      { containerId, timeout: timeoutSeconds },
      opts,
      Math.max(0, timeoutSeconds) * 1000,
    );
  }

  async removeContainer(containerId: string, opts?: Call): Promise<void> {
    await this.#rt('RemoveContainer', { containerId }, opts);
  }

  async listContainers(filter?: ContainerFilter, opts?: Call): Promise<Container[]> {
    const res = await this.#rt<{ containers: Container[] }>('ListContainers', { filter }, opts);
    return res.containers;
  }

  async containerStatus(containerId: string, opts?: Call): Promise<ContainerStatus> {
    const res = await this.#rt<{ status?: ContainerStatus }>(
      'ContainerStatus',
      { containerId, verbose: false },
      opts,
    );
    if (!res.status)
      throw new CriError('ContainerStatus', GrpcCode.NOT_FOUND, `no status for container ${containerId}`);
    return res.status;
  }

  async updateContainerResources(
    containerId: string,
    linux: LinuxContainerResources,
    opts?: Call,
  ): Promise<void> {
    await this.#rt('UpdateContainerResources', { containerId, linux }, opts);
  }

  async reopenContainerLog(containerId: string, opts?: Call): Promise<void> {
    await this.#rt('ReopenContainerLog', { containerId }, opts);
  }

  execSync(
    containerId: string,
    cmd: string[],
    timeoutSeconds: number,
    opts?: Call,
  ): Promise<ExecSyncResponse> {
    return this.#rt<ExecSyncResponse>(
      'ExecSync',
      { containerId, cmd, timeout: timeoutSeconds },
      opts,
      Math.max(0, timeoutSeconds) * 1000,
    );
  }

  async exec(req: StreamingRequest, opts?: Call): Promise<string> {
    const res = await this.#rt<{ url: string }>('Exec', req, opts);
    return res.url;
  }

  async attach(req: Omit<StreamingRequest, 'cmd'>, opts?: Call): Promise<string> {
    const res = await this.#rt<{ url: string }>('Attach', req, opts);
    return res.url;
  }

  async portForward(podSandboxId: string, ports: number[], opts?: Call): Promise<string> {
    const res = await this.#rt<{ url: string }>('PortForward', { podSandboxId, port: ports }, opts);
    return res.url;
  }

  async containerStats(containerId: string, opts?: Call): Promise<ContainerStats | undefined> {
    const res = await this.#rt<{ stats?: ContainerStats }>('ContainerStats', { containerId }, opts);
    return res.stats;
  }

  async listContainerStats(filter?: ContainerFilter, opts?: Call): Promise<ContainerStats[]> {
    // ContainerStatsFilter has id, podSandboxId and labelSelector; a state filter cannot be sent.
    const statsFilter = filter
      ? {
          id: filter.id ?? '',
          podSandboxId: filter.podSandboxId ?? '',
          labelSelector: filter.labelSelector ?? {},
        }
      : undefined;
    const res = await this.#rt<{ stats: ContainerStats[] }>(
      'ListContainerStats',
      { filter: statsFilter },
      opts,
    );
    return res.stats;
  }

  // ---- ImageService ----------------------------------------------------------------------------

  async listImages(opts?: Call): Promise<Image[]> {
    const res = await this.#img<{ images: Image[] }>('ListImages', {}, opts);
    return res.images;
  }

  async imageStatus(image: string, opts?: Call): Promise<Image | undefined> {
    const res = await this.#img<{ image?: Image }>('ImageStatus', { image: { image }, verbose: false }, opts);
    return res.image;
  }

  async pullImage(
    image: string,
    auth?: AuthConfig,
    sandboxConfig?: PodSandboxConfig,
    opts?: Call,
  ): Promise<string> {
    const res = await this.#img<{ imageRef: string }>(
      'PullImage',
      { image: { image }, auth, sandboxConfig },
      opts,
      this.#pullTimeoutMs,
    );
    return res.imageRef;
  }

  async removeImage(image: string, opts?: Call): Promise<void> {
    await this.#img('RemoveImage', { image: { image } }, opts);
  }

  async imageFsInfo(opts?: Call): Promise<FilesystemUsage[]> {
    const res = await this.#img<{ imageFilesystems: FilesystemUsage[] }>('ImageFsInfo', {}, opts);
    return res.imageFilesystems;
  }

  close(): void {
    this.#channel.close();
  }
}

/**
 * proto-loader (defaults: true) fills absent message fields with null; types.ts says undefined.
 * Removes null-valued keys in place, recursively (Buffers and arrays of scalars are left alone).
 */
export function denull(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    for (const item of value) denull(item);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === null) delete obj[key];
    else if (typeof v === 'object') denull(v);
  }
  return obj;
}
