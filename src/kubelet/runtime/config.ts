/**
 * Where skiff's own containerd keeps its files under the data dir, and the config.toml it runs with.
 *
 *   DIR/agent/containerd/             root (content store, snapshots, metadata); config.toml;
 *                                     containerd.log
 *   DIR/agent/containerd/state/       state (task bundles; netns mounts under state/netns)
 *   DIR/agent/run/containerd.sock     the gRPC socket (or /run/skiff/<hash>/ when DIR is long:
 *                                     unix socket paths must stay under 108 bytes)
 *   DIR/agent/run/containerd.pid      the pid of the running containerd, for adoption
 *   DIR/agent/cni/net.d/              CNI conf_dir (the kubelet writes the conflist; cni.ts)
 *   DIR/agent/certs.d/                per-registry hosts.toml files (registry config_path)
 *   DIR/agent/images/                 image archives imported at start
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_PAUSE_IMAGE } from '../images/builder.ts';

export interface ContainerdPaths {
  root: string;
  state: string;
  configFile: string;
  logFile: string;
  pidFile: string;
  socket: string;
  cniConfDir: string;
  certsDir: string;
  imagesDir: string;
}

/** Longest socket path we use as is (sun_path is 108 bytes including the NUL; ".ttrpc" is added). */
const MAX_SOCKET = 100;

/** The file layout for a data dir. `cniConfDir` overrides DIR/agent/cni/net.d. */
export function containerdPaths(dataDir: string, cniConfDir?: string): ContainerdPaths {
  const agent = join(dataDir, 'agent');
  const root = join(agent, 'containerd');
  let socket = join(agent, 'run', 'containerd.sock');
  if (Buffer.byteLength(`${socket}.ttrpc`) > MAX_SOCKET) {
    const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    socket = join('/run/skiff', hash, 'containerd.sock');
  }
  return {
    root,
    state: join(root, 'state'),
    configFile: join(root, 'config.toml'),
    logFile: join(root, 'containerd.log'),
    pidFile: join(agent, 'run', 'containerd.pid'),
    socket,
    cniConfDir: cniConfDir ?? join(agent, 'cni', 'net.d'),
    certsDir: join(agent, 'certs.d'),
    imagesDir: join(agent, 'images'),
  };
}

export interface ContainerdConfigOptions {
  paths: ContainerdPaths;
  /** The sandbox (pause) image; must be present locally (it is imported, never pulled). */
  pauseImage?: string;
  /** The runc binary. */
  runc?: string;
  /** Where CNI plugins live (Debian: /usr/lib/cni). */
  cniBinDir?: string;
}

/** TOML basic string. */
const str = (s: string): string => JSON.stringify(s);

/** Plugins skiff never uses: disabled so containerd starts faster and logs less. */
export const DISABLED_PLUGINS = [
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
  'io.containerd.internal.v1.opt',
];

/**
 * config.toml (version 2) for containerd 1.6: cgroupfs, overlayfs, runc at /usr/sbin/runc, CNI from
 * /usr/lib/cni, `restrict_oom_score_adj = true` (required here: without CAP_SYS_RESOURCE a negative
 * oom_score_adj makes runc fail), the CRI streaming server on 127.0.0.1 with a free port (port "0":
 * the URLs returned by Exec/Attach/PortForward carry the real port), netns mounts under the state
 * dir, and per-registry hosts.toml files in certs.d.
 */
export function renderContainerdConfig(opts: ContainerdConfigOptions): string {
  const p = opts.paths;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by skiff; rewritten at every start.
version = 2
root = ${str(p.root)}
state = ${str(p.state)}
disabled_plugins = [${DISABLED_PLUGINS.map(str).join(', ')}]

[grpc]
  address = ${str(p.socket)}

[debug]
  level = "info"

[${cri}]
  sandbox_image = ${str(opts.pauseImage ?? DEFAULT_PAUSE_IMAGE)}
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false
  netns_mounts_under_state_dir = true
  enable_selinux = false
  max_container_log_line_size = 16384

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = ${str(opts.runc ?? '/usr/sbin/runc')}
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = ${str(opts.cniBinDir ?? '/usr/lib/cni')}
  conf_dir = ${str(p.cniConfDir)}
  max_conf_num = 1

[${cri}.registry]
  config_path = ${str(p.certsDir)}
`;
}
