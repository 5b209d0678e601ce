/**
 * Docker-link style variables for Services (pkg/kubelet/envvars FromServices and the kubelet's
 * getServiceEnvVarMap): `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`, `<NAME>_SERVICE_PORT_<PORT>`
 * and the `<NAME>_PORT…` link variables, for every Service with a cluster IP in the pod's namespace
 * (when enableServiceLinks) and always for `default/kubernetes`.
 */
import type { Service } from 'kubernetes-types/core/v1.js';

/** makeEnvVariableName */
function envName(s: string): string {
  return s.replaceAll('-', '_').toUpperCase();
}

function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** envvars.FromServices, for services already filtered; variables in the order Kubernetes makes them. */
export function fromServices(services: Service[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = envName(svc.metadata?.name ?? '');
    const ip = svc.spec?.clusterIP ?? '';
    const ports = svc.spec?.ports ?? [];
    out.set(`${name}_SERVICE_HOST`, ip);
    if (ports[0]) out.set(`${name}_SERVICE_PORT`, String(ports[0].port));
    for (const p of ports) {
      if (p.name) out.set(`${name}_SERVICE_PORT_${envName(p.name)}`, String(p.port));
    }
    ports.forEach((p, i) => {
      const proto = p.protocol ?? 'TCP';
      const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      if (i === 0) out.set(`${name}_PORT`, url);
      out.set(prefix, url);
      out.set(`${prefix}_PROTO`, proto.toLowerCase());
      out.set(`${prefix}_PORT`, String(p.port));
      out.set(`${prefix}_ADDR`, ip);
    });
  }
  return out;
}

/** The API server's own services, always linked from the default namespace. */
const MASTER_SERVICES = new Set(['kubernetes']);

/**
 * getServiceEnvVarMap: from `services` (any namespaces), the variables a pod in `namespace` gets.
 * Services in the pod's namespace win over the default namespace's master services of the same name.
 */
export function serviceEnv(
  services: Service[],
  namespace: string,
  enableServiceLinks: boolean,
): Map<string, string> {
  const byName = new Map<string, Service>();
  // Byte order, as Go sorts strings (localeCompare would also page in ICU's collation data).
  const keyOf = (s: Service) => `${s.metadata?.namespace}/${s.metadata?.name}`;
  const sorted = [...services].sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  for (const svc of sorted) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    if (svc.metadata?.namespace === 'default' && MASTER_SERVICES.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata?.namespace === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  return fromServices([...byName.keys()].sort().map((n) => byName.get(n) as Service));
}
