/**
 * What configMap, secret, downwardAPI and projected volumes hold: the kubelet's MakePayload
 * (configmap, secret), CollectData (downwardapi) and the projected volume's collectData, as
 * path → (bytes, mode) maps for the atomic writer.
 */
import type {
  ConfigMap,
  DownwardAPIVolumeFile,
  KeyToPath,
  Pod,
  ProjectedVolumeSource,
  Secret,
} from 'kubernetes-types/core/v1.js';
import { VolumeError } from '../contracts.ts';
import { podFieldValue, type ResourceList, resourceFieldValue } from '../env/fieldref.ts';
import type { Payload } from './atomic-writer.ts';
import { configMapData, type ObjectSource, SourceNotFoundError, secretData } from './sources.ts';
import type { TokenSource } from './tokens.ts';

export const DEFAULT_MODE = 0o644;

export interface PayloadContext {
  sources: ObjectSource;
  tokens: TokenSource;
  nodeAllocatable: ResourceList;
  hostIPs: string[];
}

/** MakePayload for configMap and secret data. */
function makePayload(
  data: Map<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  missingKey: (key: string) => string,
): Payload {
  const out: Payload = new Map();
  if (!items?.length) {
    for (const [k, v] of data) out.set(k, { data: v, mode: defaultMode });
    return out;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeError(missingKey(item.key));
    }
    out.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
  return out;
}

async function orEmpty<T>(get: Promise<T>, optional: boolean, empty: T): Promise<T> {
  try {
    return await get;
  } catch (err) {
    if (err instanceof SourceNotFoundError) {
      if (optional) return empty;
      throw new VolumeError(err.message);
    }
    throw err;
  }
}

export async function configMapPayload(
  ctx: PayloadContext,
  namespace: string,
  src: { name?: string; items?: KeyToPath[]; optional?: boolean },
  defaultMode: number,
): Promise<Payload> {
  const optional = src.optional ?? false;
  const cm = await orEmpty<ConfigMap>(ctx.sources.configMap(namespace, src.name ?? ''), optional, {});
  return makePayload(
    configMapData(cm),
    src.items,
    defaultMode,
    optional,
    (k) => `configmap references non-existent config key: ${k}`,
  );
}

export async function secretPayload(
  ctx: PayloadContext,
  namespace: string,
  src: { name?: string; items?: KeyToPath[]; optional?: boolean },
  defaultMode: number,
): Promise<Payload> {
  const optional = src.optional ?? false;
  const s = await orEmpty<Secret>(ctx.sources.secret(namespace, src.name ?? ''), optional, {});
  return makePayload(
    secretData(s),
    src.items,
    defaultMode,
    optional,
    (k) => `references non-existent secret key: ${k}`,
  );
}

/** downwardapi.CollectData */
export function downwardPayload(
  ctx: PayloadContext,
  pod: Pod,
  items: DownwardAPIVolumeFile[] | undefined,
  defaultMode: number,
): Payload {
  const out: Payload = new Map();
  const errs: string[] = [];
  for (const item of items ?? []) {
    let value = '';
    try {
      if (item.fieldRef) value = podFieldValue(pod, item.fieldRef, ctx.hostIPs);
      else if (item.resourceFieldRef)
        value = resourceFieldValue(pod, undefined, item.resourceFieldRef, ctx.nodeAllocatable);
    } catch (err) {
      errs.push((err as Error).message);
      continue;
    }
    out.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
  }
  if (errs.length) throw new VolumeError(errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);
  return out;
}

/** The projected volume's collectData: every source's files in one payload. */
export async function projectedPayload(
  ctx: PayloadContext,
  pod: Pod,
  src: ProjectedVolumeSource,
): Promise<Payload> {
  const ns = pod.metadata?.namespace ?? 'default';
  const mode = src.defaultMode ?? DEFAULT_MODE;
  const out: Payload = new Map();
  const errs: string[] = [];
  for (const s of src.sources ?? []) {
    try {
      let part: Payload = new Map();
      if (s.secret) part = await secretPayload(ctx, ns, s.secret, mode);
      else if (s.configMap) part = await configMapPayload(ctx, ns, s.configMap, mode);
      else if (s.downwardAPI) part = downwardPayload(ctx, pod, s.downwardAPI.items, mode);
      else if (s.serviceAccountToken) {
        const t = s.serviceAccountToken;
        const token = await ctx.tokens.token({
          namespace: ns,
          serviceAccount: pod.spec?.serviceAccountName || 'default',
          podName: pod.metadata?.name ?? '',
          podUid: pod.metadata?.uid ?? '',
          audience: t.audience ?? '',
          expirationSeconds: t.expirationSeconds ?? 3600,
        });
        part.set(t.path, { data: Buffer.from(token), mode });
      } else if (s.clusterTrustBundle) {
        throw new VolumeError('clusterTrustBundle projections are not supported');
      }
      for (const [k, v] of part) out.set(k, v);
    } catch (err) {
      errs.push((err as Error).message);
    }
  }
  if (errs.length) throw new VolumeError(errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`);
  return out;
}
