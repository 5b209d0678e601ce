/**
 * Builds docker-archive tars (the `docker save` layout: manifest.json, a config blob and one
 * uncompressed layer per image) from in-memory file lists. containerd imports these with
 * `ctr images import`, naming the image after the `RepoTags` entry (normalised, so
 * "skiff.local/busybox:latest" stays as it is and "busybox" becomes "docker.io/library/busybox:latest").
 * The output is reproducible: the same input gives the same bytes, hence the same image id.
 */
import { createHash } from 'node:crypto';
import { type TarEntry, writeTar } from './tar.ts';

/** The runtime part of an OCI/docker image config (`config` in the image JSON). */
export interface ImageRunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface ImageArchiveSpec {
  /** The image reference to tag the image with, e.g. "skiff.local/busybox:latest". */
  ref: string;
  /** The root filesystem, as one layer. */
  files: readonly TarEntry[];
  config: ImageRunConfig;
  /** GOARCH-style architecture; defaults to this host's. */
  architecture?: string;
}

/** The host's architecture as OCI names it (amd64, arm64, …). */
export function ociArchitecture(arch: string = process.arch): string {
  switch (arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    default:
      return arch; // arm64, arm, ppc64, s390x, riscv64 share names
  }
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A fixed creation time keeps the config (and so the image id) reproducible. */
const CREATED = '2000-01-01T00:00:00Z';

/**
 * Returns a docker-archive tar holding one image. The image id (the config digest) is returned too,
 * as `sha256:<hex>`, which is what containerd's CRI reports as the image's `id`.
 */
export function buildDockerArchive(spec: ImageArchiveSpec): { archive: Buffer; imageId: string } {
  const layer = writeTar(spec.files);
  const layerHex = sha256(layer);
  const config = {
    architecture: spec.architecture ?? ociArchitecture(),
    os: 'linux',
    created: CREATED,
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
    history: [{ created: CREATED, created_by: 'skiff image builder' }],
  };
  const configJson = Buffer.from(JSON.stringify(config));
  const configHex = sha256(configJson);
  const manifest = [{ Config: `${configHex}.json`, RepoTags: [spec.ref], Layers: [`${layerHex}/layer.tar`] }];
  const archive = writeTar([
    { type: 'dir', path: layerHex },
    { type: 'file', path: `${layerHex}/layer.tar`, data: layer },
    { type: 'file', path: `${configHex}.json`, data: configJson },
    { type: 'file', path: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
  ]);
  return { archive, imageId: `sha256:${configHex}` };
}
