/**
 * The kubelet's makeEnvironmentVariables: envFrom first (configMapRef / secretRef, with prefix;
 * invalid names skipped), then env in order (values with `$(VAR)` expansion against the variables
 * so far and the service variables; valueFrom configMapKeyRef, secretKeyRef, fieldRef,
 * resourceFieldRef), then the service link variables not already defined.
 */
import type { ConfigMap, Container, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { SERVICES } from '../../client/resources.ts';
import type { Lister, RestClient } from '../../client/types.ts';
import { type Clock, systemClock } from '../../util/clock.ts';
import type { EnvResolver } from '../contracts.ts';
import type { KeyValue } from '../cri/types.ts';
import { ObjectSource, SourceNotFoundError, secretData } from '../volumes/sources.ts';
import { ContainerConfigError } from './errors.ts';
import { expand, mappingFor } from './expand.ts';
import { podFieldValue, type ResourceList, resourceFieldValue } from './fieldref.ts';
import { serviceEnv } from './service-links.ts';

/** validation.IsEnvVarName */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function isEnvVarName(name: string): boolean {
  return ENV_VAR_NAME.test(name);
}

export interface EnvResolverOptions {
  client: RestClient;
  /** Shared with the VolumeManager so a pod's sources are read once (default: its own). */
  sources?: ObjectSource;
  /**
   * Services for the link variables, from a Service informer (the kubelet's way). Without it the
   * resolver lists the pod's namespace and reads default/kubernetes through `client`, cached
   * `servicesTtlMs`.
   */
  services?: Lister;
  servicesTtlMs?: number;
  /** The node's allocatable, for resourceFieldRef limits a container does not set. */
  nodeAllocatable?: () => ResourceList | undefined;
  /** The node's IPs, for status.hostIP(s) when the pod's status has none yet. */
  hostIPs?: () => string[];
  /** Called when envFrom skips keys that are not valid variable names (the kubelet's Warning event
   *  InvalidEnvironmentVariableNames), with the kubelet's message. */
  onInvalidKeys?: (pod: Pod, message: string) => void;
  clock?: Clock;
}

/**
 * The kubelet's EnvResolver. Pass a pod whose `status.podIP(s)` are the sandbox's IPs when the API
 * object does not have them yet (the kubelet takes them from the sandbox).
 */
export class KubeletEnvResolver implements EnvResolver {
  readonly #o: EnvResolverOptions;
  readonly #sources: ObjectSource;
  readonly #clock: Clock;
  readonly #svcCache = new Map<string, { at: number; value: Promise<Service[]> }>();

  constructor(opts: EnvResolverOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#sources = opts.sources ?? new ObjectSource({ client: opts.client, clock: this.#clock });
  }

  async resolve(pod: Pod, container: Container, _signal?: AbortSignal): Promise<KeyValue[]> {
    const ns = pod.metadata?.namespace ?? 'default';
    const svcEnv = serviceEnv(await this.#services(ns), ns, pod.spec?.enableServiceLinks ?? true);
    const configMaps = new Map<string, ConfigMap>();
    const secrets = new Map<string, Secret>();
    const getCM = async (name: string): Promise<ConfigMap> => {
      let cm = configMaps.get(name);
      if (!cm) {
        cm = await this.#sources.configMap(ns, name);
        configMaps.set(name, cm);
      }
      return cm;
    };
    const getSecret = async (name: string): Promise<Secret> => {
      let s = secrets.get(name);
      if (!s) {
        s = await this.#sources.secret(ns, name);
        secrets.set(name, s);
      }
      return s;
    };
    const env = new Map<string, string>();
    try {
      for (const from of container.envFrom ?? []) {
        const ref = from.configMapRef ?? from.secretRef;
        if (!ref) continue;
        const isCM = from.configMapRef !== undefined;
        const name = ref.name ?? '';
        let data: Map<string, string>;
        try {
          data = isCM
            ? new Map(Object.entries((await getCM(name)).data ?? {}))
            : new Map([...secretData(await getSecret(name))].map(([k, v]) => [k, v.toString('utf8')]));
        } catch (err) {
          if (err instanceof SourceNotFoundError && ref.optional) continue;
          throw err;
        }
        const invalid: string[] = [];
        for (const [key, value] of data) {
          const k = (from.prefix ?? '') + key;
          if (!isEnvVarName(k)) {
            invalid.push(k);
            continue;
          }
          env.set(k, value);
        }
        if (invalid.length && this.#o.onInvalidKeys) {
          invalid.sort();
          this.#o.onInvalidKeys(
            pod,
            `Keys [${invalid.join(', ')}] from the EnvFrom ${isCM ? 'configMap' : 'secret'} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
          );
        }
      }
      const mapping = mappingFor(env, svcEnv);
      for (const v of container.env ?? []) {
        let value = v.value ?? '';
        const from = v.valueFrom;
        if (value !== '') {
          value = expand(value, mapping);
        } else if (from?.fieldRef) {
          value = podFieldValue(pod, from.fieldRef, this.#o.hostIPs?.() ?? []);
        } else if (from?.resourceFieldRef) {
          value = resourceFieldValue(
            pod,
            container,
            from.resourceFieldRef,
            this.#o.nodeAllocatable?.() ?? {},
          );
        } else if (from?.configMapKeyRef) {
          const { name = '', key, optional } = from.configMapKeyRef;
          let cm: ConfigMap;
          try {
            cm = await getCM(name);
          } catch (err) {
            if (err instanceof SourceNotFoundError && optional) continue;
            throw err;
          }
          const found = cm.data?.[key];
          if (found === undefined) {
            if (optional) continue;
            throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
          }
          value = found;
        } else if (from?.secretKeyRef) {
          const { name = '', key, optional } = from.secretKeyRef;
          let s: Secret;
          try {
            s = await getSecret(name);
          } catch (err) {
            if (err instanceof SourceNotFoundError && optional) continue;
            throw err;
          }
          const found = secretData(s).get(key);
          if (found === undefined) {
            if (optional) continue;
            throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
          }
          value = found.toString('utf8');
        }
        env.set(v.name, value);
      }
    } catch (err) {
      if (err instanceof SourceNotFoundError) throw new ContainerConfigError(err.message);
      throw err;
    }
    const out: KeyValue[] = [...env].map(([key, value]) => ({ key, value }));
    for (const [key, value] of svcEnv) if (!env.has(key)) out.push({ key, value });
    return out;
  }

  async #services(namespace: string): Promise<Service[]> {
    const lister = this.#o.services;
    if (lister) return lister.list() as unknown as Service[];
    const now = this.#clock.now();
    const ttl = this.#o.servicesTtlMs ?? 1000;
    const hit = this.#svcCache.get(namespace);
    if (hit && now - hit.at <= ttl) return hit.value;
    const client = this.#o.client;
    const value = (async () => {
      const [local, master] = await Promise.all([
        client.list(SERVICES, namespace),
        namespace === 'default'
          ? Promise.resolve(undefined)
          : client.get(SERVICES, 'default', 'kubernetes').catch(() => undefined),
      ]);
      return (master ? [...local.items, master] : local.items) as unknown as Service[];
    })();
    value.catch(() => this.#svcCache.delete(namespace));
    this.#svcCache.set(namespace, { at: now, value });
    return value;
  }
}
