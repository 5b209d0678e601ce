/**
 * FakeRuntime: an in-memory CriRuntime for unit tests of the kubelet's parts. It keeps sandboxes,
 * containers and images with the states, timestamps (from an injected clock) and error codes
 * containerd 1.6 produces, records every call, and lets a test script what a real runtime would do
 * on its own: a container exits or is OOM-killed, a call fails, an exec probe returns a result, a
 * container ignores SIGTERM.
 *
 * Behaviour mirrored from containerd (measured in test/e2e/cri.test.ts):
 *  - ids are 64 hex characters; timestamps are Unix nanoseconds from the clock.
 *  - runPodSandbox gives each sandbox an IP from 10.244.0.2 upward ('' for host-network sandboxes).
 *  - stopPodSandbox kills the sandbox's running containers (exit 137, reason "Error"), releases the
 *    IP (status then reports ip ''), and is idempotent; removePodSandbox stops first, removes the
 *    sandbox's containers, and succeeds for an unknown id. stopPodSandbox of an unknown id is
 *    NOT_FOUND.
 *  - createContainer needs the sandbox (NOT_FOUND) and the image (NOT_FOUND); names are unique per
 *    sandbox and attempt. startContainer needs a CREATED container in a READY sandbox.
 *  - exit reasons: "Completed" for exit 0, "Error" otherwise, "OOMKilled" when scripted so.
 *  - stopContainer of a running container: by default it exits at once with 143 (SIGTERM honoured);
 *    `setStopBehaviour` can make it ignore SIGTERM (it then exits 137 after `timeoutSeconds` on the
 *    clock) or exit with another code. Stopping a container that is not running is a no-op;
 *    removeContainer kills a running container first and succeeds for an unknown id.
 *  - pullImage of an image neither present nor made pullable rejects with NOT_FOUND (what
 *    containerd answers when the registry lacks the tag). Unlike containerd, which always asks the
 *    registry, pulling an image that is present succeeds without `makePullable`.
 *  - errors containerd reports as UNKNOWN (wrong state, name already reserved) are UNKNOWN here.
 *  - containerStatus / podSandboxStatus of an unknown id reject with NOT_FOUND.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { type Clock, systemClock } from '../../util/clock.ts';
import { CriError, GrpcCode } from './errors.ts';
import { normalizeImageRef } from './ref.ts';
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerState,
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
  PodSandboxState,
  PodSandboxStatus,
  RuntimeCondition,
  StreamingRequest,
  VersionResponse,
} from './types.ts';

/** Names of the CriRuntime methods a test can fail or inspect. */
export type CriMethod = Exclude<keyof CriRuntime, 'close'>;

export interface FakeCall {
  method: CriMethod;
  args: unknown[];
}

/** What an execSync returns: a fixed result, or one computed from the command (may be async). */
export type ExecSyncScript =
  | Partial<{ stdout: string | Buffer; stderr: string | Buffer; exitCode: number }>
  | ((
      cmd: string[],
      containerId: string,
    ) =>
      | Partial<{ stdout: string | Buffer; stderr: string | Buffer; exitCode: number }>
      | Promise<Partial<{ stdout: string | Buffer; stderr: string | Buffer; exitCode: number }>>);

/** How a running container reacts to stopContainer. */
export interface StopBehaviour {
  /** When true, SIGTERM is ignored: the container exits 137 after `timeoutSeconds` on the clock. */
  ignoreSigterm?: boolean;
  /** Exit code when it does exit on SIGTERM (default 143). */
  exitCode?: number;
}

type Matcher = string | ((c: FakeContainerRecord) => boolean);

/** A sandbox as the fake stores it. */
export interface FakeSandboxRecord {
  id: string;
  config: PodSandboxConfig;
  state: PodSandboxState;
  createdAt: number;
  ip: string;
  runtimeHandler: string;
}

/** A container as the fake stores it. */
export interface FakeContainerRecord {
  id: string;
  podSandboxId: string;
  config: ContainerConfig;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  imageRef: string;
  resources?: LinuxContainerResources;
  logReopens: number;
}

interface FakeImage {
  id: string;
  repoTags: string[];
  size: number;
}

export interface FakeRuntimeOptions {
  clock?: Clock;
  /** Base of the URLs exec/attach/portForward return (default http://127.0.0.1:10010). */
  streamingBaseUrl?: string;
  /** Images present from the start (references). */
  images?: string[];
  runtimeName?: string;
  runtimeVersion?: string;
}

const NS_PER_MS = 1_000_000;

export class FakeRuntime implements CriRuntime {
  /** Every call, in order, with its arguments as passed. */
  readonly calls: FakeCall[] = [];
  readonly sandboxes = new Map<string, FakeSandboxRecord>();
  readonly containers = new Map<string, FakeContainerRecord>();
  /** Runtime conditions reported by status(); tests may edit them. */
  conditions: RuntimeCondition[] = [
    { type: 'RuntimeReady', status: true, reason: '', message: '' },
    { type: 'NetworkReady', status: true, reason: '', message: '' },
  ];
  closed = false;

  readonly #clock: Clock;
  readonly #streamingBase: string;
  readonly #runtimeName: string;
  readonly #runtimeVersion: string;
  readonly #images = new Map<string, FakeImage>();
  readonly #pullable = new Map<string, { size: number }>();
  readonly #failures = new Map<CriMethod, unknown[]>();
  readonly #exec: { match: Matcher; script: ExecSyncScript }[] = [];
  readonly #stop: { match: Matcher; behaviour: StopBehaviour }[] = [];
  readonly #stats = new Map<string, Partial<ContainerStats>>();
  #seq = 0;
  #ipSeq = 2;
  #token = 0;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#streamingBase = opts.streamingBaseUrl ?? 'http://127.0.0.1:10010';
    this.#runtimeName = opts.runtimeName ?? 'containerd';
    this.#runtimeVersion = opts.runtimeVersion ?? 'v1.6.20';
    for (const ref of opts.images ?? []) this.addImage(ref);
  }

  // ---- scripting -------------------------------------------------------------------------------

  /** Makes the image present; returns its id. */
  addImage(ref: string, opts: { size?: number } = {}): string {
    const name = normalizeImageRef(ref);
    const existing = this.#findImage(name);
    if (existing) return existing.id;
    const id = `sha256:${hex(`image:${name}`)}`;
    this.#images.set(id, { id, repoTags: [name], size: opts.size ?? 1_000_000 });
    return id;
  }

  /** Lets pullImage succeed for `ref` (it is not present until pulled). */
  makePullable(ref: string, opts: { size?: number } = {}): void {
    this.#pullable.set(normalizeImageRef(ref), { size: opts.size ?? 1_000_000 });
  }

  /** True when the image is present. */
  hasImage(ref: string): boolean {
    return this.#findImage(normalizeImageRef(ref)) !== undefined;
  }

  /** The next `times` calls of `method` reject with `error` (before doing anything). */
  failNext(method: CriMethod, error: unknown, times = 1): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.#failures.set(method, queue);
  }

  /** A running container exits, as if its process ended (reason: Completed / Error by code). */
  exitContainer(id: string, exitCode: number, reason?: string, message = ''): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`FakeRuntime: no container ${id}`);
    if (c.state !== 'CONTAINER_RUNNING') throw new Error(`FakeRuntime: container ${id} is ${c.state}`);
    this.#exit(c, exitCode, reason, message);
  }

  /** The container is killed by the OOM killer: exit 137, reason OOMKilled. */
  oomKill(id: string): void {
    this.exitContainer(id, 137, 'OOMKilled');
  }

  /**
   * Scripts execSync for containers matching `match` (an id, or a predicate on the record). The
   * most recent matching script wins; without one, execSync returns exit 0 and no output.
   */
  setExecSyncResult(match: Matcher, script: ExecSyncScript): void {
    this.#exec.unshift({ match, script });
  }

  /** Scripts how matching containers react to stopContainer (most recent wins). */
  setStopBehaviour(match: Matcher, behaviour: StopBehaviour): void {
    this.#stop.unshift({ match, behaviour });
  }

  /** Sets the stats containerStats/listContainerStats report for a container. */
  setStats(id: string, stats: Partial<ContainerStats>): void {
    this.#stats.set(id, stats);
  }

  /** Calls of one method, in order. */
  callsOf(method: CriMethod): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Forgets the call log. */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** The container named `name` (metadata.name) in the sandbox, latest attempt first. */
  findContainer(podSandboxId: string, name: string): FakeContainerRecord | undefined {
    return [...this.containers.values()]
      .filter((c) => c.podSandboxId === podSandboxId && c.config.metadata.name === name)
      .sort((a, b) => b.config.metadata.attempt - a.config.metadata.attempt || b.createdAt - a.createdAt)[0];
  }

  // ---- RuntimeService --------------------------------------------------------------------------

  async version(opts?: { signal?: AbortSignal }): Promise<VersionResponse> {
    this.#enter('version', [], opts?.signal);
    return {
      version: '0.1.0',
      runtimeName: this.#runtimeName,
      runtimeVersion: this.#runtimeVersion,
      runtimeApiVersion: 'v1',
    };
  }

  async status(opts?: { signal?: AbortSignal }): Promise<RuntimeCondition[]> {
    this.#enter('status', [], opts?.signal);
    return structuredClone(this.conditions);
  }

  async runPodSandbox(
    config: PodSandboxConfig,
    opts?: { signal?: AbortSignal; runtimeHandler?: string },
  ): Promise<string> {
    this.#enter('runPodSandbox', [config, opts?.runtimeHandler], opts?.signal);
    const m = config.metadata;
    const name = `${m.name}_${m.namespace}_${m.uid}_${m.attempt}`;
    for (const s of this.sandboxes.values()) {
      const sm = s.config.metadata;
      if (`${sm.name}_${sm.namespace}_${sm.uid}_${sm.attempt}` === name) {
        throw new CriError('RunPodSandbox', GrpcCode.UNKNOWN, `failed to reserve sandbox name "${name}"`);
      }
    }
    const id = this.#id('sandbox');
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    this.sandboxes.set(id, {
      id,
      config: structuredClone(config),
      state: 'SANDBOX_READY',
      createdAt: this.#nowNs(),
      ip: hostNetwork ? '' : this.#nextIp(),
      runtimeHandler: opts?.runtimeHandler ?? '',
    });
    return id;
  }

  async stopPodSandbox(podSandboxId: string, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#enter('stopPodSandbox', [podSandboxId], opts?.signal);
    const s = this.#sandbox('StopPodSandbox', podSandboxId);
    for (const c of this.containers.values()) {
      if (c.podSandboxId === s.id && c.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
    }
    s.state = 'SANDBOX_NOTREADY';
    s.ip = '';
  }

  async removePodSandbox(podSandboxId: string, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#enter('removePodSandbox', [podSandboxId], opts?.signal);
    const s = this.sandboxes.get(podSandboxId);
    if (!s) return;
    for (const c of [...this.containers.values()]) {
      if (c.podSandboxId !== s.id) continue;
      if (c.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
      this.containers.delete(c.id);
      this.#stats.delete(c.id);
    }
    this.sandboxes.delete(s.id);
  }

  async podSandboxStatus(podSandboxId: string, opts?: { signal?: AbortSignal }): Promise<PodSandboxStatus> {
    this.#enter('podSandboxStatus', [podSandboxId], opts?.signal);
    const s = this.#sandbox('PodSandboxStatus', podSandboxId);
    return {
      ...this.#sandboxView(s),
      network: { ip: s.ip, additionalIps: [] },
    };
  }

  async listPodSandbox(filter?: PodSandboxFilter, opts?: { signal?: AbortSignal }): Promise<PodSandbox[]> {
    this.#enter('listPodSandbox', [filter], opts?.signal);
    return [...this.sandboxes.values()]
      .filter(
        (s) =>
          (!filter?.id || s.id === filter.id) &&
          (!filter?.state || s.state === filter.state.state) &&
          matchLabels(s.config.labels, filter?.labelSelector),
      )
      .map((s) => this.#sandboxView(s));
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    sandboxConfig: PodSandboxConfig,
    opts?: { signal?: AbortSignal },
  ): Promise<string> {
    this.#enter('createContainer', [podSandboxId, config, sandboxConfig], opts?.signal);
    const s = this.#sandbox('CreateContainer', podSandboxId);
    const image = this.#findImage(normalizeImageRef(config.image.image));
    if (!image) {
      throw new CriError(
        'CreateContainer',
        GrpcCode.NOT_FOUND,
        `failed to resolve image "${config.image.image}": not found`,
      );
    }
    for (const c of this.containers.values()) {
      if (
        c.podSandboxId === s.id &&
        c.config.metadata.name === config.metadata.name &&
        c.config.metadata.attempt === config.metadata.attempt
      ) {
        const sm = s.config.metadata;
        const name = `${config.metadata.name}_${sm.name}_${sm.namespace}_${sm.uid}_${config.metadata.attempt}`;
        throw new CriError(
          'CreateContainer',
          GrpcCode.UNKNOWN,
          `failed to reserve container name "${name}": name "${name}" is reserved for "${c.id}"`,
        );
      }
    }
    const id = this.#id('container');
    this.containers.set(id, {
      id,
      podSandboxId: s.id,
      config: structuredClone(config),
      state: 'CONTAINER_CREATED',
      createdAt: this.#nowNs(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      imageRef: image.id,
      resources: config.linux?.resources ? structuredClone(config.linux.resources) : undefined,
      logReopens: 0,
    });
    return id;
  }

  async startContainer(containerId: string, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#enter('startContainer', [containerId], opts?.signal);
    const c = this.#container('StartContainer', containerId);
    if (c.state !== 'CONTAINER_CREATED') {
      throw new CriError(
        'StartContainer',
        GrpcCode.UNKNOWN,
        `failed to set starting state for container "${c.id}": container is in ${c.state} state`,
      );
    }
    const s = this.sandboxes.get(c.podSandboxId);
    if (s?.state !== 'SANDBOX_READY') {
      throw new CriError(
        'StartContainer',
        GrpcCode.UNKNOWN,
        `sandbox container "${c.podSandboxId}" is not running`,
      );
    }
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = this.#nowNs();
  }

  async stopContainer(
    containerId: string,
    timeoutSeconds: number,
    opts?: { signal?: AbortSignal },
  ): Promise<void> {
    const signal = opts?.signal;
    this.#enter('stopContainer', [containerId, timeoutSeconds], signal);
    const c = this.#container('StopContainer', containerId);
    if (c.state !== 'CONTAINER_RUNNING') return;
    const behaviour = this.#stop.find((s) => matches(s.match, c))?.behaviour ?? {};
    if (!behaviour.ignoreSigterm || timeoutSeconds <= 0) {
      this.#exit(c, timeoutSeconds <= 0 || behaviour.ignoreSigterm ? 137 : (behaviour.exitCode ?? 143));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        cancel();
        reject(abortReason(signal));
      };
      const cancel = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        if (c.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
        resolve();
      }, timeoutSeconds * 1000);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async removeContainer(containerId: string, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#enter('removeContainer', [containerId], opts?.signal);
    const c = this.containers.get(containerId);
    if (!c) return;
    if (c.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
    this.containers.delete(containerId);
    this.#stats.delete(containerId);
  }

  async listContainers(filter?: ContainerFilter, opts?: { signal?: AbortSignal }): Promise<Container[]> {
    this.#enter('listContainers', [filter], opts?.signal);
    return [...this.containers.values()]
      .filter((c) => matchContainer(c, filter))
      .map((c) => ({
        id: c.id,
        podSandboxId: c.podSandboxId,
        metadata: { ...c.config.metadata },
        image: { image: c.config.image.image, annotations: {} },
        imageRef: c.imageRef,
        state: c.state,
        createdAt: c.createdAt,
        labels: { ...c.config.labels },
        annotations: { ...c.config.annotations },
      }));
  }

  async containerStatus(containerId: string, opts?: { signal?: AbortSignal }): Promise<ContainerStatus> {
    this.#enter('containerStatus', [containerId], opts?.signal);
    const c = this.#container('ContainerStatus', containerId);
    const s = this.sandboxes.get(c.podSandboxId);
    const image = this.#images.get(c.imageRef);
    const logDir = s?.config.logDirectory;
    return {
      id: c.id,
      metadata: { ...c.config.metadata },
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      image: { image: image?.repoTags[0] ?? c.config.image.image, annotations: {} },
      imageRef: c.imageRef,
      reason: c.reason,
      message: c.message,
      labels: { ...c.config.labels },
      annotations: { ...c.config.annotations },
      mounts: structuredClone(c.config.mounts ?? []).map((m) => ({
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE' as const,
        ...m,
      })),
      logPath: logDir && c.config.logPath ? path.join(logDir, c.config.logPath) : '',
    };
  }

  async updateContainerResources(
    containerId: string,
    linux: LinuxContainerResources,
    opts?: { signal?: AbortSignal },
  ): Promise<void> {
    this.#enter('updateContainerResources', [containerId, linux], opts?.signal);
    const c = this.#container('UpdateContainerResources', containerId);
    c.resources = { ...c.resources, ...structuredClone(linux) };
  }

  async reopenContainerLog(containerId: string, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#enter('reopenContainerLog', [containerId], opts?.signal);
    const c = this.#container('ReopenContainerLog', containerId);
    if (c.state !== 'CONTAINER_RUNNING') {
      throw new CriError('ReopenContainerLog', GrpcCode.UNKNOWN, 'container is not running');
    }
    c.logReopens++;
  }

  async execSync(
    containerId: string,
    cmd: string[],
    timeoutSeconds: number,
    opts?: { signal?: AbortSignal },
  ): Promise<ExecSyncResponse> {
    const signal = opts?.signal;
    this.#enter('execSync', [containerId, cmd, timeoutSeconds], signal);
    const c = this.#container('ExecSync', containerId);
    if (c.state !== 'CONTAINER_RUNNING') {
      throw new CriError(
        'ExecSync',
        GrpcCode.UNKNOWN,
        `failed to exec in container: container is in ${c.state} state`,
      );
    }
    const script = this.#exec.find((e) => matches(e.match, c))?.script ?? {};
    const pending = Promise.resolve(typeof script === 'function' ? script([...cmd], containerId) : script);
    const result = await new Promise<Awaited<typeof pending>>((resolve, reject) => {
      let cancelTimer = () => {};
      const onAbort = () => {
        cancelTimer();
        reject(abortReason(signal));
      };
      if (timeoutSeconds > 0) {
        cancelTimer = this.#clock.setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          reject(
            new CriError(
              'ExecSync',
              GrpcCode.DEADLINE_EXCEEDED,
              `timeout ${timeoutSeconds}s exceeded: context deadline exceeded`,
            ),
          );
        }, timeoutSeconds * 1000);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (r) => {
          cancelTimer();
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
        (e: unknown) => {
          cancelTimer();
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
    return {
      stdout: Buffer.from(result.stdout ?? ''),
      stderr: Buffer.from(result.stderr ?? ''),
      exitCode: result.exitCode ?? 0,
    };
  }

  async exec(req: StreamingRequest, opts?: { signal?: AbortSignal }): Promise<string> {
    this.#enter('exec', [req], opts?.signal);
    this.#running('Exec', req.containerId);
    return `${this.#streamingBase}/exec/${this.#nextToken()}`;
  }

  async attach(req: Omit<StreamingRequest, 'cmd'>, opts?: { signal?: AbortSignal }): Promise<string> {
    this.#enter('attach', [req], opts?.signal);
    this.#running('Attach', req.containerId);
    return `${this.#streamingBase}/attach/${this.#nextToken()}`;
  }

  async portForward(podSandboxId: string, ports: number[], opts?: { signal?: AbortSignal }): Promise<string> {
    this.#enter('portForward', [podSandboxId, ports], opts?.signal);
    const s = this.#sandbox('PortForward', podSandboxId);
    if (s.state !== 'SANDBOX_READY') {
      throw new CriError(
        'PortForward',
        GrpcCode.FAILED_PRECONDITION,
        `sandbox ${podSandboxId} is not running`,
      );
    }
    return `${this.#streamingBase}/portforward/${this.#nextToken()}`;
  }

  async containerStats(
    containerId: string,
    opts?: { signal?: AbortSignal },
  ): Promise<ContainerStats | undefined> {
    this.#enter('containerStats', [containerId], opts?.signal);
    return this.#statsOf(this.#container('ContainerStats', containerId));
  }

  async listContainerStats(
    filter?: ContainerFilter,
    opts?: { signal?: AbortSignal },
  ): Promise<ContainerStats[]> {
    this.#enter('listContainerStats', [filter], opts?.signal);
    // ContainerStatsFilter has no state: like the real call, `filter.state` is ignored.
    const statsFilter = filter ? { ...filter, state: undefined } : undefined;
    return [...this.containers.values()]
      .filter((c) => matchContainer(c, statsFilter))
      .map((c) => this.#statsOf(c));
  }

  // ---- ImageService ----------------------------------------------------------------------------

  async listImages(opts?: { signal?: AbortSignal }): Promise<Image[]> {
    this.#enter('listImages', [], opts?.signal);
    return [...this.#images.values()].map((i) => imageView(i));
  }

  async imageStatus(image: string, opts?: { signal?: AbortSignal }): Promise<Image | undefined> {
    this.#enter('imageStatus', [image], opts?.signal);
    const found = this.#images.get(image) ?? this.#findImage(normalizeImageRef(image));
    return found ? imageView(found) : undefined;
  }

  async pullImage(
    image: string,
    auth?: AuthConfig,
    sandboxConfig?: PodSandboxConfig,
    opts?: { signal?: AbortSignal },
  ): Promise<string> {
    this.#enter('pullImage', [image, auth, sandboxConfig], opts?.signal);
    const name = normalizeImageRef(image);
    const present = this.#findImage(name);
    if (present) return present.id;
    const pullable = this.#pullable.get(name);
    if (!pullable) {
      throw new CriError(
        'PullImage',
        GrpcCode.NOT_FOUND,
        `failed to pull and unpack image "${name}": failed to resolve reference "${name}": ${name}: not found`,
      );
    }
    return this.addImage(name, { size: pullable.size });
  }

  async removeImage(image: string, opts?: { signal?: AbortSignal }): Promise<void> {
    this.#enter('removeImage', [image], opts?.signal);
    const found = this.#images.get(image) ?? this.#findImage(normalizeImageRef(image));
    if (found) this.#images.delete(found.id);
  }

  async imageFsInfo(opts?: { signal?: AbortSignal }): Promise<FilesystemUsage[]> {
    this.#enter('imageFsInfo', [], opts?.signal);
    let used = 0;
    for (const i of this.#images.values()) used += i.size;
    return [
      {
        timestamp: this.#nowNs(),
        fsId: { mountpoint: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs' },
        usedBytes: { value: used },
        inodesUsed: { value: this.#images.size * 100 },
      },
    ];
  }

  close(): void {
    this.closed = true;
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Records the call, then honours an aborted signal and a scripted failure. */
  #enter(method: CriMethod, args: unknown[], signal: AbortSignal | undefined): void {
    this.calls.push({ method, args });
    if (signal?.aborted) throw abortReason(signal);
    const queue = this.#failures.get(method);
    if (queue && queue.length > 0) throw queue.shift();
  }

  #sandbox(method: string, id: string): FakeSandboxRecord {
    const s = this.sandboxes.get(id);
    if (!s)
      throw new CriError(
        method,
        GrpcCode.NOT_FOUND,
        `an error occurred when try to find sandbox "${id}": not found`,
      );
    return s;
  }

  #container(method: string, id: string): FakeContainerRecord {
    const c = this.containers.get(id);
    if (!c)
      throw new CriError(
        method,
        GrpcCode.NOT_FOUND,
        `an error occurred when try to find container "${id}": not found`,
      );
    return c;
  }

  #running(method: string, id: string): FakeContainerRecord {
    const c = this.#container(method, id);
    if (c.state !== 'CONTAINER_RUNNING') {
      throw new CriError(method, GrpcCode.UNKNOWN, `container ${id} is not running`);
    }
    return c;
  }

  #exit(c: FakeContainerRecord, exitCode: number, reason?: string, message = ''): void {
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = this.#nowNs();
    c.exitCode = exitCode;
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    c.message = message;
  }

  #sandboxView(s: FakeSandboxRecord): PodSandbox {
    return {
      id: s.id,
      metadata: { ...s.config.metadata },
      state: s.state,
      createdAt: s.createdAt,
      labels: { ...s.config.labels },
      annotations: { ...s.config.annotations },
    };
  }

  #statsOf(c: FakeContainerRecord): ContainerStats {
    const now = this.#nowNs();
    const scripted = this.#stats.get(c.id) ?? {};
    return {
      attributes: {
        id: c.id,
        metadata: { ...c.config.metadata },
        labels: { ...c.config.labels },
        annotations: { ...c.config.annotations },
      },
      cpu: { timestamp: now, usageCoreNanoSeconds: { value: 0 }, usageNanoCores: { value: 0 } },
      memory: {
        timestamp: now,
        workingSetBytes: { value: 0 },
        usageBytes: { value: 0 },
        rssBytes: { value: 0 },
      },
      writableLayer: { timestamp: now, usedBytes: { value: 0 }, inodesUsed: { value: 0 } },
      ...structuredClone(scripted),
    };
  }

  #findImage(name: string): FakeImage | undefined {
    for (const i of this.#images.values()) if (i.repoTags.includes(name)) return i;
    return undefined;
  }

  #id(kind: string): string {
    return hex(`${kind}:${++this.#seq}`);
  }

  #nextIp(): string {
    const n = this.#ipSeq++;
    return `10.244.${Math.floor(n / 256)}.${n % 256}`;
  }

  #nextToken(): string {
    return hex(`token:${++this.#token}`).slice(0, 8);
  }

  #nowNs(): number {
    return this.#clock.now() * NS_PER_MS;
  }
}

function hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function matches(m: Matcher, c: FakeContainerRecord): boolean {
  return typeof m === 'string' ? m === c.id : m(c);
}

function matchLabels(
  labels: Record<string, string> | undefined,
  selector: Record<string, string> | undefined,
): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function matchContainer(c: FakeContainerRecord, filter: ContainerFilter | undefined): boolean {
  return (
    (!filter?.id || c.id === filter.id) &&
    (!filter?.podSandboxId || c.podSandboxId === filter.podSandboxId) &&
    (!filter?.state || c.state === filter.state.state) &&
    matchLabels(c.config.labels, filter?.labelSelector)
  );
}

function imageView(i: FakeImage): Image {
  return {
    id: i.id,
    repoTags: [...i.repoTags],
    repoDigests: [],
    size: i.size,
    username: '',
    pinned: false,
  };
}
