/**
 * The PodSandboxConfig of a pod, as kuberuntime_sandbox.go generatePodSandboxConfig builds it:
 * metadata (attempt counts sandbox re-creations), hostname, log directory, DNS, port mappings from
 * every container port, labels (the pod's plus io.kubernetes.pod.*), the pod's annotations, and the
 * Linux part: cgroup parent, security context (run-as, supplemental groups, host namespaces,
 * privileged when any container is), sysctls.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../contracts.ts';
import type { LinuxSandboxSecurityContext, PodSandboxConfig, PortMapping, Protocol } from '../cri/types.ts';
import { type DnsOptions, podDnsConfig } from './dns.ts';
import { ANNOTATION_HOST_NETWORK } from './runtime-state.ts';

export interface SandboxOptions {
  /** The kubelet's pod log root, /var/log/pods. */
  podLogRoot: string;
  dns: DnsOptions;
}

/** `<podLogRoot>/<ns>_<name>_<uid>` */
export function podLogDirectory(podLogRoot: string, pod: Pod): string {
  const m = pod.metadata ?? {};
  return `${podLogRoot.replace(/\/$/, '')}/${m.namespace}_${m.name}_${m.uid}`;
}

/** Labels that identify a pod's sandbox (the pod's own labels plus the kubelet's). */
export function sandboxLabels(pod: Pod): Record<string, string> {
  const m = pod.metadata ?? {};
  return {
    ...(m.labels ?? {}),
    [LABEL_POD_NAME]: m.name ?? '',
    [LABEL_POD_NAMESPACE]: m.namespace ?? '',
    [LABEL_POD_UID]: m.uid ?? '',
  };
}

/** The hostname a pod's containers see (GeneratePodHostNameAndDomain): spec.hostname or the pod
 * name truncated to 63 characters; with setHostnameAsFQDN the FQDN. */
export function podHostname(pod: Pod, clusterDomain: string): string {
  const spec = pod.spec ?? { containers: [] };
  let host = spec.hostname || pod.metadata?.name || '';
  if (host.length > 63) host = host.slice(0, 63).replace(/[-.]+$/, '');
  if (spec.setHostnameAsFQDN && spec.subdomain) {
    return `${host}.${spec.subdomain}.${pod.metadata?.namespace}.svc.${clusterDomain}`;
  }
  return host;
}

/** Port mappings from every container's ports (the runtime maps those with a hostPort). */
export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      const m: PortMapping = { protocol: (p.protocol ?? 'TCP') as Protocol, containerPort: p.containerPort };
      if (p.hostPort) m.hostPort = p.hostPort;
      if (p.hostIP) m.hostIp = p.hostIP;
      out.push(m);
    }
  }
  return out;
}

function sandboxSecurity(pod: Pod): LinuxSandboxSecurityContext {
  const spec = pod.spec;
  const sc = spec?.securityContext ?? {};
  const out: LinuxSandboxSecurityContext = {
    namespaceOptions: {
      network: spec?.hostNetwork ? 'NODE' : 'POD',
      pid: spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
      ipc: spec?.hostIPC ? 'NODE' : 'POD',
    },
  };
  if (sc.runAsUser !== undefined) out.runAsUser = { value: sc.runAsUser };
  if (sc.runAsGroup !== undefined) out.runAsGroup = { value: sc.runAsGroup };
  const groups = [...(sc.supplementalGroups ?? [])];
  if (sc.fsGroup !== undefined) groups.unshift(sc.fsGroup);
  if (groups.length) out.supplementalGroups = groups;
  const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  if (all.some((c) => c.securityContext?.privileged)) out.privileged = true;
  return out;
}

/** The sandbox config of `pod`; `attempt` is the number of sandboxes created for it before. */
export function sandboxConfig(
  pod: Pod,
  attempt: number,
  cgroupParent: string,
  o: SandboxOptions,
): PodSandboxConfig {
  const m = pod.metadata ?? {};
  const sysctls: Record<string, string> = {};
  for (const s of pod.spec?.securityContext?.sysctls ?? []) sysctls[s.name] = s.value;
  return {
    metadata: { name: m.name ?? '', uid: m.uid ?? '', namespace: m.namespace ?? '', attempt },
    // hostNetwork pods keep the node's hostname.
    hostname: pod.spec?.hostNetwork ? undefined : podHostname(pod, o.dns.clusterDomain),
    logDirectory: podLogDirectory(o.podLogRoot, pod),
    dnsConfig: podDnsConfig(pod, o.dns),
    portMappings: portMappings(pod),
    labels: sandboxLabels(pod),
    annotations: {
      ...(m.annotations ?? {}),
      [ANNOTATION_HOST_NETWORK]: String(pod.spec?.hostNetwork === true),
    },
    linux: {
      cgroupParent,
      securityContext: sandboxSecurity(pod),
      sysctls,
    },
  };
}
