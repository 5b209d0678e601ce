/**
 * Image reference normalisation as containerd (docker/distribution's reference package) does it:
 * `busybox` → `docker.io/library/busybox:latest`, `foo/bar` → `docker.io/foo/bar:latest`,
 * `host:5000/x` keeps its registry, a digest reference keeps its digest and gets no tag.
 */

/** The fully qualified form of `ref`. An image id (`sha256:…`) is returned unchanged. */
export function normalizeImageRef(ref: string): string {
  if (/^sha256:[0-9a-f]{64}$/.test(ref)) return ref;
  let name = ref;
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) {
    name = slash >= 0 ? `docker.io/${name}` : `docker.io/library/${name}`;
  } else if (first === 'index.docker.io') {
    name = `docker.io${name.slice(first.length)}`;
  }
  const lastSlash = name.lastIndexOf('/');
  const hasTag = name.slice(lastSlash + 1).includes(':');
  if (!hasTag && !digest) name = `${name}:latest`;
  return name + digest;
}
