/**
 * The container spec hash the kubelet stores in the `io.kubernetes.container.hash` annotation: a
 * change means the container must be restarted. As Kubernetes (since resize support), resources are
 * left out, so a change of requests/limits alone does not restart the container. FNV-1a (32 bit)
 * over the JSON of the spec with sorted keys, printed in hex.
 */
import type { Container } from 'kubernetes-types/core/v1.js';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** FNV-1a 32-bit of a string's UTF-8 bytes. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The hash of `container`'s spec (resources excluded), as a hex string. */
export function containerHash(container: Container): string {
  const {
    resources: _resources,
    resizePolicy: _resize,
    ...rest
  } = container as Container & { resizePolicy?: unknown };
  return fnv32a(JSON.stringify(canonical(rest))).toString(16);
}
