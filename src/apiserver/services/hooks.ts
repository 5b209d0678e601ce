/**
 * The Service registry's side effects, as Kubernetes' service REST storage has them: a cluster IP for
 * every Service but ExternalName and headless ones, node ports for NodePort and LoadBalancer
 * Services, both kept for the Service's life and released when it goes (or no longer needs them).
 */
import { ApiError, FieldError } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceHooks, UpdateEffects } from '../registry/registry.ts';
import { AllocationError, type Owner, type ServiceAllocator } from './allocator.ts';

interface ServicePort {
  port?: unknown;
  nodePort?: unknown;
  protocol?: unknown;
  name?: unknown;
}

interface ServiceSpec {
  type?: unknown;
  clusterIP?: unknown;
  clusterIPs?: unknown;
  ports?: unknown;
  ipFamilies?: unknown;
  ipFamilyPolicy?: unknown;
  allocateLoadBalancerNodePorts?: unknown;
}

function specOf(obj: KubeObject): ServiceSpec {
  if (!isPlainObject(obj.spec)) obj.spec = {};
  return obj.spec as ServiceSpec;
}

function typeOf(spec: ServiceSpec): string {
  return typeof spec.type === 'string' && spec.type ? spec.type : 'ClusterIP';
}

function portsOf(spec: ServiceSpec): ServicePort[] {
  return Array.isArray(spec.ports) ? (spec.ports.filter(isPlainObject) as ServicePort[]) : [];
}

/** The cluster IP the object asks for: '' (allocate), 'None' (headless) or an address. */
function requestedIp(spec: ServiceSpec): string {
  if (typeof spec.clusterIP === 'string' && spec.clusterIP) return spec.clusterIP;
  if (Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') return spec.clusterIPs[0];
  return '';
}

function needsIp(spec: ServiceSpec): boolean {
  return typeOf(spec) !== 'ExternalName' && requestedIp(spec) !== 'None';
}

function needsNodePorts(spec: ServiceSpec): boolean {
  const t = typeOf(spec);
  return t === 'NodePort' || (t === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

function owner(obj: KubeObject): Owner {
  return { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
}

function invalid(obj: KubeObject, field: string, value: unknown, err: unknown): never {
  if (err instanceof AllocationError) {
    throw ApiError.invalid('', 'Service', obj.metadata.name ?? '', [
      FieldError.invalid(field, value, err.message),
    ]);
  }
  throw err;
}

function nodePortValue(p: ServicePort): number | undefined {
  return typeof p.nodePort === 'number' && p.nodePort !== 0 ? p.nodePort : undefined;
}

export function serviceHooks(alloc: ServiceAllocator): ResourceHooks {
  /** Allocates node ports for every port of `spec` that has none; `keep` are ports already held. */
  async function allocatePorts(obj: KubeObject, keep: Set<number>, taken: number[]): Promise<void> {
    const spec = specOf(obj);
    const ports = portsOf(spec);
    for (const [i, p] of ports.entries()) {
      const want = nodePortValue(p);
      if (want !== undefined && keep.has(want)) continue;
      try {
        const got = await alloc.allocateNodePort(owner(obj), want);
        p.nodePort = got;
        taken.push(got);
      } catch (err) {
        invalid(obj, `spec.ports[${i}].nodePort`, want, err);
      }
    }
  }

  function setIpFields(spec: ServiceSpec, ip: string): void {
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
    if (ip !== 'None' || spec.ipFamilies === undefined) spec.ipFamilies = ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }

  return {
    async beforeCreate(obj, dryRun) {
      const spec = specOf(obj);
      const ips: string[] = [];
      const ports: number[] = [];
      const undo = async () => {
        for (const ip of ips) await alloc.releaseIp(ip);
        for (const p of ports) await alloc.releaseNodePort(p);
      };
      try {
        if (needsIp(spec)) {
          const want = requestedIp(spec);
          let ip: string;
          try {
            ip = await alloc.allocateIp(owner(obj), want || undefined);
          } catch (err) {
            invalid(obj, 'spec.clusterIPs', want ? [want] : [], err);
          }
          ips.push(ip);
          setIpFields(spec, ip);
        } else if (requestedIp(spec) === 'None') {
          setIpFields(spec, 'None');
        } else {
          delete spec.clusterIP;
          delete spec.clusterIPs;
        }
        if (needsNodePorts(spec)) await allocatePorts(obj, new Set(), ports);
      } catch (err) {
        await undo();
        throw err;
      }
      if (dryRun) await undo();
      return undo;
    },

    async beforeUpdate(obj, old, dryRun): Promise<UpdateEffects> {
      const spec = specOf(obj);
      const oldSpec = specOf(old);
      const taken: { ips: string[]; ports: number[] } = { ips: [], ports: [] };
      const toRelease: { ips: string[]; ports: number[] } = { ips: [], ports: [] };
      const undo = async () => {
        for (const ip of taken.ips) await alloc.releaseIp(ip);
        for (const p of taken.ports) await alloc.releaseNodePort(p);
      };
      try {
        const oldIp = needsIp(oldSpec) ? requestedIp(oldSpec) : '';
        if (needsIp(spec)) {
          const want = requestedIp(spec);
          if (oldIp && (!want || want === oldIp)) setIpFields(spec, oldIp);
          else if (oldIp && want !== oldIp) {
            throw ApiError.invalid('', 'Service', obj.metadata.name ?? '', [
              FieldError.invalid('spec.clusterIPs[0]', want, 'may not change once set'),
            ]);
          } else {
            let ip: string;
            try {
              ip = await alloc.allocateIp(owner(obj), want || undefined);
            } catch (err) {
              invalid(obj, 'spec.clusterIPs', want ? [want] : [], err);
            }
            taken.ips.push(ip);
            setIpFields(spec, ip);
          }
        } else {
          if (oldIp) toRelease.ips.push(oldIp);
          if (requestedIp(spec) === 'None') setIpFields(spec, 'None');
          else if (typeOf(spec) === 'ExternalName') {
            delete spec.clusterIP;
            delete spec.clusterIPs;
          }
        }
        const held = new Set(
          needsNodePorts(oldSpec)
            ? portsOf(oldSpec)
                .map(nodePortValue)
                .filter((p) => p !== undefined)
            : [],
        );
        if (needsNodePorts(spec)) {
          // Ports kept by number stay; a port without one keeps the node port it had (matched by port and protocol).
          for (const p of portsOf(spec)) {
            if (nodePortValue(p) !== undefined) continue;
            const match = portsOf(oldSpec).find(
              (o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
            );
            const prev = match ? nodePortValue(match) : undefined;
            if (prev !== undefined) p.nodePort = prev;
          }
          await allocatePorts(obj, held, taken.ports);
        } else {
          for (const p of portsOf(spec)) delete p.nodePort;
        }
        const kept = new Set(needsNodePorts(spec) ? portsOf(spec).map(nodePortValue) : []);
        for (const p of held) if (!kept.has(p)) toRelease.ports.push(p);
      } catch (err) {
        await undo();
        throw err;
      }
      if (dryRun) {
        await undo();
        return { undo: async () => {}, commit: async () => {} };
      }
      return {
        undo,
        commit: async () => {
          for (const ip of toRelease.ips) await alloc.releaseIp(ip);
          for (const p of toRelease.ports) await alloc.releaseNodePort(p);
        },
      };
    },

    async afterDelete(obj) {
      const spec = specOf(obj);
      if (needsIp(spec)) {
        const ip = requestedIp(spec);
        if (ip) await alloc.releaseIp(ip);
      }
      if (needsNodePorts(spec)) {
        for (const p of portsOf(spec)) {
          const n = nodePortValue(p);
          if (n !== undefined) await alloc.releaseNodePort(n);
        }
      }
    },
  };
}
