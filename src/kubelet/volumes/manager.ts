/**
 * The kubelet's VolumeManager: a pod's volumes under `<root>/pods/<uid>/volumes/<plugin>/<name>`
 * with the kubelet's plugin directory names, the mounts of each container (pkg/kubelet makeMounts),
 * the managed /etc/hosts and the termination message files.
 *
 *   emptyDir            kubernetes.io~empty-dir     a 0777 directory; medium Memory: a tmpfs (sizeLimit)
 *   configMap           kubernetes.io~configmap     atomic writer on disk
 *   secret              kubernetes.io~secret        atomic writer on a tmpfs
 *   downwardAPI         kubernetes.io~downward-api  atomic writer on disk
 *   projected           kubernetes.io~projected     atomic writer on a tmpfs
 *   hostPath, persistentVolumeClaim                 the host path itself (nothing under the pod)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../api/quantity.ts';
import type { RestClient } from '../../client/types.ts';
import { type Clock, systemClock } from '../../util/clock.ts';
import { exists } from '../../util/fs.ts';
import { type Logger, silentLogger } from '../../util/log.ts';
import { resourceConfigForPod } from '../cm/resources.ts';
import { VolumeError, type VolumeManager } from '../contracts.ts';
import type { KeyValue, Mount, MountPropagation } from '../cri/types.ts';
import { ContainerConfigError } from '../env/errors.ts';
import { expand } from '../env/expand.ts';
import { podFieldValue, type ResourceList } from '../env/fieldref.ts';
import { type Payload, writeAtomically } from './atomic-writer.ts';
import { checkHostPathType } from './hostpath.ts';
import { hostNetworkHostsFile, managedHostsFile } from './hosts.ts';
import { mountsUnder, mountTmpfs, unmount } from './mount.ts';
import {
  configMapPayload,
  DEFAULT_MODE,
  downwardPayload,
  type PayloadContext,
  projectedPayload,
  secretPayload,
} from './payload.ts';
import { claimHostPath } from './pvc.ts';
import { ObjectSource } from './sources.ts';
import { TokenSource } from './tokens.ts';

export const PLUGIN_DIRS = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
} as const;

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

export interface KubeletVolumeManagerOptions {
  /** The kubelet's root directory; pods live in `<root>/pods/<uid>`. */
  root: string;
  client: RestClient;
  /** ConfigMap/Secret reads, shared with the EnvResolver (default: its own, 1 s cache). */
  sources?: ObjectSource;
  tokens?: TokenSource;
  /** The node's allocatable, for downward API resource limits a container does not set. */
  nodeAllocatable?: () => ResourceList | undefined;
  /** The node's IPs (status.hostIP(s) in downward API files). */
  hostIPs?: () => string[];
  /** For pod FQDNs in /etc/hosts (default cluster.local). */
  clusterDomain?: string;
  /** The node's hosts file, copied for host-network pods (default /etc/hosts). */
  nodeHostsFile?: string;
  clock?: Clock;
  logger?: Logger;
}

/** What mountsFor needs beyond the pod: the sandbox's IPs and the container's resolved env. */
export interface MountsForOptions {
  /** The sandbox's IPs (default: the pod's status.podIPs). No IPs and no host network: no /etc/hosts. */
  podIPs?: string[];
  /** The container's environment, for subPathExpr (default: its literal and fieldRef env). */
  env?: KeyValue[];
}

const PROPAGATION: Record<string, MountPropagation> = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
};

/** The most of a termination message the kubelet reads (kubecontainer.MaxContainerTerminationMessageLength). */
export const MAX_TERMINATION_MESSAGE = 4096;

export class KubeletVolumeManager implements VolumeManager {
  readonly #o: KubeletVolumeManagerOptions;
  readonly #sources: ObjectSource;
  readonly #tokens: TokenSource;
  readonly #log: Logger;
  /** Pod UID → host paths of its persistent volumes (the local-path reaper keeps these). */
  readonly #pvPaths = new Map<string, Set<string>>();

  constructor(opts: KubeletVolumeManagerOptions) {
    // The real path: mount points in /proc/self/mountinfo are real paths, and tearDown matches them.
    mkdirSync(opts.root, { recursive: true, mode: 0o750 });
    this.#o = { ...opts, root: realpathSync(opts.root) };
    const clock = opts.clock ?? systemClock;
    this.#sources = opts.sources ?? new ObjectSource({ client: opts.client, clock });
    this.#tokens = opts.tokens ?? new TokenSource(opts.client, clock);
    this.#log = opts.logger ?? silentLogger;
  }

  /** `<root>/pods/<uid>` */
  podDir(podUid: string): string {
    return join(this.#o.root, 'pods', podUid);
  }

  /** Host paths of persistent volumes used by pods this manager set up (for the local-path reaper). */
  persistentVolumePathsInUse(): Set<string> {
    const out = new Set<string>();
    for (const s of this.#pvPaths.values()) for (const p of s) out.add(p);
    return out;
  }

  async setUp(pod: Pod, signal?: AbortSignal): Promise<Map<string, string>> {
    const uid = pod.metadata?.uid ?? '';
    if (!uid) throw new VolumeError('pod has no uid');
    await mkdir(join(this.podDir(uid), 'volumes'), { recursive: true, mode: 0o750 });
    const out = new Map<string, string>();
    let first: VolumeError | undefined;
    for (const vol of pod.spec?.volumes ?? []) {
      signal?.throwIfAborted();
      try {
        out.set(vol.name, await this.#setUpVolume(pod, vol));
      } catch (err) {
        const message = `MountVolume.SetUp failed for volume "${vol.name}" : ${(err as Error).message}`;
        this.#log.debug({ pod: pod.metadata?.name, volume: vol.name, err }, 'volume set-up failed');
        first ??= new VolumeError(message, err instanceof VolumeError ? err.reason : 'FailedMount');
      }
    }
    if (first) throw first;
    return out;
  }

  async refresh(pod: Pod, signal?: AbortSignal): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    for (const vol of pod.spec?.volumes ?? []) {
      signal?.throwIfAborted();
      const plugin = pluginOf(vol);
      if (!plugin || plugin === 'emptyDir') continue;
      const dir = join(this.podDir(uid), 'volumes', PLUGIN_DIRS[plugin], vol.name);
      if (!(await exists(join(dir, '..data')))) continue;
      try {
        await writeAtomically(dir, await this.#payload(pod, vol));
      } catch (err) {
        this.#log.debug({ pod: pod.metadata?.name, volume: vol.name, err }, 'volume refresh failed');
      }
    }
  }

  async mountsFor(
    pod: Pod,
    container: Container,
    paths: Map<string, string>,
    opts: MountsForOptions = {},
  ): Promise<Mount[]> {
    const mounts: Mount[] = [];
    const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
    for (const vm of container.volumeMounts ?? []) {
      const vol = volumes.get(vm.name);
      let hostPath = paths.get(vm.name);
      if (!vol || hostPath === undefined)
        throw new ContainerConfigError(
          `cannot find volume "${vm.name}" to mount into container "${container.name}"`,
        );
      let subPath = vm.subPath ?? '';
      if (vm.subPathExpr) subPath = this.#expandSubPath(pod, container, vm.subPathExpr, opts.env);
      if (subPath) hostPath = await this.#subPath(hostPath, subPath);
      const propagation = PROPAGATION[vm.mountPropagation ?? 'None'] ?? 'PROPAGATION_PRIVATE';
      if (propagation === 'PROPAGATION_BIDIRECTIONAL' && !container.securityContext?.privileged)
        throw new ContainerConfigError(
          'Bidirectional mount propagation is available only to privileged containers',
        );
      mounts.push({
        containerPath: vm.mountPath,
        hostPath,
        readonly: (vm.readOnly ?? false) || readOnlyVolume(vol),
        propagation,
      });
    }
    const uid = pod.metadata?.uid ?? '';
    const podDir = this.podDir(uid);
    const podIPs = opts.podIPs ?? pod.status?.podIPs?.map((p) => p.ip ?? '').filter(Boolean) ?? [];
    const hostNetwork = pod.spec?.hostNetwork ?? false;
    if ((podIPs.length > 0 || hostNetwork) && !mounts.some((m) => m.containerPath === '/etc/hosts')) {
      await mkdir(podDir, { recursive: true, mode: 0o750 });
      const file = join(podDir, 'etc-hosts');
      const content = hostNetwork
        ? hostNetworkHostsFile(pod, await readFile(this.#o.nodeHostsFile ?? '/etc/hosts', 'utf8'))
        : managedHostsFile(pod, podIPs, this.#o.clusterDomain);
      await writeFile(file, content, { mode: 0o644 });
      mounts.push({
        containerPath: '/etc/hosts',
        hostPath: file,
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      });
    }
    const tmp = container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
    if (tmp) {
      const dir = join(podDir, 'containers', container.name);
      await mkdir(dir, { recursive: true, mode: 0o750 });
      const file = join(dir, randomUUID());
      await writeFile(file, '', { mode: 0o666 });
      await chmod(file, 0o666);
      mounts.push({
        containerPath: tmp,
        hostPath: file,
        readonly: false,
        propagation: 'PROPAGATION_PRIVATE',
      });
    }
    return mounts;
  }

  async tearDown(podUid: string): Promise<void> {
    const dir = this.podDir(podUid);
    for (const m of await mountsUnder(dir)) await unmount(m);
    const left = await mountsUnder(dir);
    if (left.length)
      throw new VolumeError(
        `volumes of pod ${podUid} are still mounted: ${left.join(', ')}`,
        'FailedUnMount',
      );
    await rm(dir, { recursive: true, force: true });
    this.#tokens.forget(podUid);
    this.#pvPaths.delete(podUid);
  }

  async podsOnDisk(): Promise<string[]> {
    try {
      const entries = await readdir(join(this.#o.root, 'pods'), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  #ctx(): PayloadContext {
    return {
      sources: this.#sources,
      tokens: this.#tokens,
      nodeAllocatable: this.#o.nodeAllocatable?.() ?? {},
      hostIPs: this.#o.hostIPs?.() ?? [],
    };
  }

  async #payload(pod: Pod, vol: Volume): Promise<Payload> {
    const ctx = this.#ctx();
    const ns = pod.metadata?.namespace ?? 'default';
    if (vol.configMap)
      return configMapPayload(ctx, ns, vol.configMap, vol.configMap.defaultMode ?? DEFAULT_MODE);
    if (vol.secret)
      return secretPayload(
        ctx,
        ns,
        { ...vol.secret, name: vol.secret.secretName },
        vol.secret.defaultMode ?? DEFAULT_MODE,
      );
    if (vol.downwardAPI)
      return downwardPayload(ctx, pod, vol.downwardAPI.items, vol.downwardAPI.defaultMode ?? DEFAULT_MODE);
    if (vol.projected) return projectedPayload(ctx, pod, vol.projected);
    throw new VolumeError(`volume "${vol.name}" has no projected content`);
  }

  async #setUpVolume(pod: Pod, vol: Volume): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    if (vol.hostPath) {
      await checkHostPathType(vol.hostPath.path, vol.hostPath.type);
      return vol.hostPath.path;
    }
    if (vol.persistentVolumeClaim) {
      const path = await claimHostPath(
        this.#o.client,
        pod.metadata?.namespace ?? 'default',
        vol.persistentVolumeClaim.claimName,
      );
      const set = this.#pvPaths.get(uid) ?? new Set<string>();
      set.add(path);
      this.#pvPaths.set(uid, set);
      return path;
    }
    const plugin = pluginOf(vol);
    if (!plugin)
      throw new VolumeError(`volume "${vol.name}": this volume type is not supported by skiff's kubelet`);
    const dir = join(this.podDir(uid), 'volumes', PLUGIN_DIRS[plugin], vol.name);
    await mkdir(dir, { recursive: true });
    if (plugin === 'emptyDir') {
      const medium = vol.emptyDir?.medium ?? '';
      if (medium === 'Memory') {
        await mountTmpfs(dir, this.#memoryVolumeSize(pod, vol.emptyDir?.sizeLimit));
      } else if (medium !== '') {
        throw new VolumeError(`emptyDir medium ${medium} is not supported`);
      }
      await chmod(dir, 0o777);
      return dir;
    }
    if (plugin === 'secret' || plugin === 'projected')
      await mountTmpfs(dir, this.#memoryVolumeSize(pod, undefined));
    await chmod(dir, 0o777);
    await writeAtomically(dir, await this.#payload(pod, vol));
    return dir;
  }

  /**
   * calculateEmptyDirMemorySize: a memory-backed volume may hold what the pod may use — the node's
   * allocatable memory, else the pod's memory limit when it has one and it is smaller, else the
   * volume's sizeLimit when that is smaller still. Undefined: the tmpfs default (half the RAM).
   */
  #memoryVolumeSize(pod: Pod, sizeLimit: unknown): number | undefined {
    const bytes = (v: unknown) => {
      if (v === undefined || v === null || v === '') return undefined;
      const n = Number(Quantity.parse(String(v)).value());
      return n > 0 ? n : undefined;
    };
    let size = bytes(this.#o.nodeAllocatable?.()?.memory);
    const podLimit = resourceConfigForPod(pod).memoryLimitBytes;
    if (podLimit !== undefined && podLimit > 0 && (size === undefined || podLimit <= size)) size = podLimit;
    const volLimit = bytes(sizeLimit);
    if (volLimit !== undefined && (size === undefined || volLimit <= size)) size = volLimit;
    return size;
  }

  /** ExpandContainerVolumeMounts: every `$(VAR)` must have a non-empty value. */
  #expandSubPath(pod: Pod, container: Container, expr: string, env: KeyValue[] | undefined): string {
    const vars = new Map<string, string>();
    if (env) for (const e of env) vars.set(e.key, e.value);
    else {
      for (const e of container.env ?? []) {
        if (e.value !== undefined) vars.set(e.name, e.value);
        else if (e.valueFrom?.fieldRef)
          vars.set(e.name, podFieldValue(pod, e.valueFrom.fieldRef, this.#o.hostIPs?.() ?? []));
      }
    }
    const missing = new Set<string>();
    const out = expand(expr, (k) => {
      const v = vars.get(k);
      if (!v) missing.add(k);
      return v ?? '';
    });
    if (missing.size) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
    return out;
  }

  /** The host path of `subPath` in a volume: relative, no `..`, inside the volume after symlinks; made when missing. */
  async #subPath(volumePath: string, subPath: string): Promise<string> {
    if (isAbsolute(subPath))
      throw new ContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
    if (subPath.split('/').includes('..'))
      throw new ContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
    const full = join(volumePath, subPath);
    if (!(await exists(full))) {
      const mode = (await stat(volumePath)).mode & 0o7777;
      await mkdir(full, { recursive: true, mode });
      await chmod(full, mode);
    }
    const base = await realpath(volumePath);
    const real = await realpath(full);
    if (real !== base && !real.startsWith(base + sep))
      throw new ContainerConfigError(`subpath "${subPath}" not within volume path "${volumePath}"`);
    return real;
  }
}

type Plugin = keyof typeof PLUGIN_DIRS;

function pluginOf(vol: Volume): Plugin | undefined {
  if (vol.emptyDir) return 'emptyDir';
  if (vol.configMap) return 'configMap';
  if (vol.secret) return 'secret';
  if (vol.downwardAPI) return 'downwardAPI';
  if (vol.projected) return 'projected';
  if (!vol.hostPath && !vol.persistentVolumeClaim && Object.keys(vol).length === 1) return 'emptyDir';
  return undefined;
}

/** The plugins whose mounts are always read-only (their attributes), and read-only claims. */
function readOnlyVolume(vol: Volume): boolean {
  if (vol.configMap || vol.secret || vol.downwardAPI || vol.projected) return true;
  return vol.persistentVolumeClaim?.readOnly ?? false;
}

/**
 * The termination message a container left at `containerPath` (its terminationMessagePath), from the
 * mounts CRI reports for it: at most the last 4096 bytes; '' when the file is gone.
 */
export async function readTerminationMessage(
  mounts: readonly Mount[],
  containerPath: string,
): Promise<string> {
  const m = mounts.find((x) => x.containerPath === containerPath);
  if (!m) return '';
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(m.hostPath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    return `Error on reading termination log ${m.hostPath}: ${(err as Error).message}`;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, MAX_TERMINATION_MESSAGE);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}
