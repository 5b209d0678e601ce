/**
 * PodSpec and PodTemplateSpec: the defaults every pod spec gets (SetDefaults_PodSpec and the
 * defaults of what it contains) and ValidatePodSpec / ValidatePodTemplateSpec. The apps and batch
 * kinds reuse {@link defaultPodSpec} and {@link validatePodTemplateSpec} for their templates.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import {
  byteLength,
  invalidEach,
  isDNS1123Subdomain,
  nameIsDNSSubdomain,
  regexError,
  validateAnnotations,
  validateLabels,
} from '../../../api/validation.ts';
import { validatePodSpecificAnnotations } from './annotations.ts';
import {
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateLabelMap,
  validateQualifiedName,
} from './common.ts';
import {
  activeDeadlineRange,
  type ContainerContext,
  defaultContainer,
  validateContainerOnlyForPod,
  validateContainers,
  validateEphemeralContainers,
  validateInitContainers,
} from './container.ts';
import { validateIP } from './ip.ts';
import {
  arr,
  defaultTo,
  fe,
  isObj,
  isSet,
  num,
  obj,
  objItems,
  optStr,
  str,
  strList,
  strMap,
  toPath,
} from './json.ts';
import {
  canonicalizeQuantities,
  isHugePageResourceName,
  validateContainerResourceName,
  validateResourceName,
  validateResourceRequirements,
} from './resources.ts';
import { validateAffinity, validateTolerations, validateTopologySpreadConstraints } from './scheduling.ts';
import { validateOS, validatePodSecurityContext } from './security.ts';
import { shapeErrors } from './shape.ts';
import { podTemplateSpec } from './shapes.ts';
import { defaultVolume, serviceAccountTokenSources, validateVolumes } from './volumes.ts';

export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/**
 * Fills in the defaults of a PodSpec, in place, as Kubernetes does for every pod spec (pods and the
 * templates of workloads): dnsPolicy ClusterFirst, restartPolicy Always, securityContext {},
 * terminationGracePeriodSeconds 30, schedulerName default-scheduler, serviceAccount mirrored from
 * serviceAccountName; and for each container imagePullPolicy (Always for ":latest" or no tag, else
 * IfNotPresent), terminationMessagePath/Policy, port protocol TCP, probe timings and HTTP
 * path/scheme; for each volume its source defaults (emptyDir when none, file modes 0644, ...).
 * Quantities are rewritten in canonical form. Pod-only defaults (requests from limits,
 * enableServiceLinks, host ports under hostNetwork) are not applied here. Idempotent; total on
 * arbitrary JSON (parts of the wrong type are left for validation to report).
 */
export function defaultPodSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  defaultTo(spec, 'dnsPolicy', 'ClusterFirst');
  defaultTo(spec, 'restartPolicy', 'Always');
  if (!isSet(spec.securityContext)) spec.securityContext = {};
  if (!isSet(spec.terminationGracePeriodSeconds))
    spec.terminationGracePeriodSeconds = DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  defaultTo(spec, 'schedulerName', DEFAULT_SCHEDULER_NAME);
  // v1 conversion: the deprecated serviceAccount mirrors serviceAccountName.
  if (!str(spec.serviceAccountName) && typeof spec.serviceAccount === 'string' && spec.serviceAccount)
    spec.serviceAccountName = spec.serviceAccount;
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName)
    spec.serviceAccount = spec.serviceAccountName;
  for (const [v] of objItems(spec.volumes)) defaultVolume(v);
  for (const key of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const [c] of objItems(spec[key])) defaultContainer(c);
  }
  canonicalizeQuantities(spec.overhead, true);
  if (isObj(spec.resources)) {
    canonicalizeQuantities(spec.resources.limits, true);
    canonicalizeQuantities(spec.resources.requests, true);
  }
}

/** Where a pod spec sits, which changes a few rules. */
export interface PodSpecOptions {
  /** The spec is a Pod's own (not a template's): host ports must equal container ports under hostNetwork, image volumes need a reference. */
  resourceIsPod: boolean;
  /** The pod's name, for generic ephemeral volume claims. */
  podName?: string;
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

const DNS_SUBDOMAIN_UNDERSCORE_FMT = '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*';
const dnsSubdomainUnderscoreRe = new RegExp(`^${DNS_SUBDOMAIN_UNDERSCORE_FMT}$`);

/** IsDNS1123SubdomainWithUnderscore */
function isDNS1123SubdomainWithUnderscore(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 253) errs.push('must be no more than 253 characters');
  if (!dnsSubdomainUnderscoreRe.test(value))
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character",
        DNS_SUBDOMAIN_UNDERSCORE_FMT,
        'example.com',
      ),
    );
  return errs;
}

/** validatePodDNSConfig (with RelaxedDNSSearchValidation) */
function validateDNSConfig(config: unknown, dnsPolicy: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (dnsPolicy === 'None') {
    if (!isObj(config)) return [fe.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (arr(config.nameservers).length === 0)
      return [
        fe.required(
          path.child('nameservers'),
          'must provide at least one DNS nameserver when `dnsPolicy` is None',
        ),
      ];
  }
  if (!isObj(config)) return errs;
  const nameservers = strList(config.nameservers);
  if (nameservers.length > 3)
    errs.push(fe.invalid(path.child('nameservers'), nameservers, 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => {
    errs.push(...validateIP(ns, path.child('nameservers').index(i)));
  });
  const searches = strList(config.searches);
  if (searches.length > 32)
    errs.push(fe.invalid(path.child('searches'), searches, 'must not have more than 32 search paths'));
  if (byteLength(searches.join(' ')) > 2048)
    errs.push(
      fe.invalid(
        path.child('searches'),
        searches,
        'must not have more than 2048 characters (including spaces) in the search list',
      ),
    );
  searches.forEach((s, i) => {
    if (s === '.') return;
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
    errs.push(
      ...invalidEach(path.child('searches').index(i), trimmed, isDNS1123SubdomainWithUnderscore(trimmed)),
    );
  });
  for (const [o, i] of objItems(config.options)) {
    if (!str(o.name)) errs.push(fe.required(path.child('options').index(i), 'must not be empty'));
  }
  return errs;
}

/** validatePodResources (PodLevelResources): names cpu, memory or hugepages; no claims. */
function validatePodResources(resources: unknown, path: FieldPath): FieldError[] {
  if (!isObj(resources)) return [];
  const errs: FieldError[] = [];
  if (isSet(resources.claims))
    errs.push(fe.forbidden(path.child('claims'), 'claims cannot be set for Resources at pod-level'));
  const nameFn = (name: string, p: FieldPath) => {
    const e = validateResourceName(name, p);
    if (e.length) return e;
    return name === 'cpu' || name === 'memory' || isHugePageResourceName(name)
      ? []
      : [fe.notSupported(p, name, ['cpu', 'memory'])];
  };
  errs.push(
    ...validateResourceRequirements(
      { limits: resources.limits, requests: resources.requests },
      new Set(),
      path,
      nameFn,
    ),
  );
  return errs;
}

/** validatePodResourceClaims */
function validatePodResourceClaims(claims: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  for (const [c, i] of objItems(claims)) {
    const p = path.index(i);
    const name = str(c.name);
    if (!name) errs.push(fe.required(p.child('name')));
    else if (names.has(name)) errs.push(fe.duplicate(p.child('name'), name));
    else {
      errs.push(...validateDNS1123Label(name, p.child('name')));
      names.add(name);
    }
    const claimName = optStr(c.resourceClaimName);
    const templateName = optStr(c.resourceClaimTemplateName);
    if (claimName !== undefined && templateName !== undefined)
      errs.push(
        fe.invalid(
          p,
          c,
          'at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified',
        ),
      );
    if (claimName === undefined && templateName === undefined)
      errs.push(fe.invalid(p, c, 'must specify one of: `resourceClaimName`, `resourceClaimTemplateName`'));
    if (claimName !== undefined)
      errs.push(
        ...invalidEach(p.child('resourceClaimName'), claimName, nameIsDNSSubdomain(claimName, false)),
      );
    if (templateName !== undefined)
      errs.push(
        ...invalidEach(
          p.child('resourceClaimTemplateName'),
          templateName,
          nameIsDNSSubdomain(templateName, false),
        ),
      );
  }
  return errs;
}

/** ValidatePodSpec: a (defaulted) PodSpec at `path`. */
export function validatePodSpec(specValue: unknown, path: FieldPath, opts: PodSpecOptions): FieldError[] {
  const spec = obj(specValue);
  const errs: FieldError[] = [];
  const grace = num(spec.terminationGracePeriodSeconds);
  if (!isSet(spec.terminationGracePeriodSeconds))
    errs.push(fe.required(path.child('terminationGracePeriodSeconds')));
  const hostUsers = spec.hostUsers !== false;
  const { volumes, errors } = validateVolumes(spec.volumes, path.child('volumes'), {
    resourceIsPod: opts.resourceIsPod,
    podName: opts.podName,
  });
  errs.push(...errors);
  const podClaimNames = new Set(
    objItems(spec.resourceClaims)
      .map(([c]) => str(c.name))
      .filter((n) => n),
  );
  errs.push(...validatePodResourceClaims(spec.resourceClaims, path.child('resourceClaims')));
  const restartPolicy = str(spec.restartPolicy);
  const ctx: ContainerContext = { volumes, podClaimNames, gracePeriod: grace, restartPolicy, hostUsers };
  errs.push(...validateContainers(spec.containers, ctx, path.child('containers')));
  errs.push(
    ...validateInitContainers(spec.initContainers, spec.containers, ctx, path.child('initContainers')),
  );
  errs.push(
    ...validateEphemeralContainers(
      spec.ephemeralContainers,
      spec.containers,
      spec.initContainers,
      ctx,
      path.child('ephemeralContainers'),
    ),
  );
  errs.push(...validatePodResources(spec.resources, path.child('resources')));
  if (spec.hostNetwork === true) {
    for (const [c, i] of objItems(spec.containers)) {
      for (const [port, j] of objItems(c.ports)) {
        const hp = num(port.hostPort) ?? 0;
        const cp = num(port.containerPort) ?? 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== cp)
          errs.push(
            fe.invalid(
              path.child('containers').index(i).child('ports').index(j).child('hostPort'),
              hp,
              'must match `containerPort` when `hostNetwork` is true',
            ),
          );
      }
    }
  }
  if (restartPolicy === '') errs.push(fe.required(path.child('restartPolicy')));
  else if (!restartPolicies.includes(restartPolicy))
    errs.push(fe.notSupported(path.child('restartPolicy'), restartPolicy, restartPolicies));
  const dnsPolicy = str(spec.dnsPolicy);
  if (dnsPolicy === '') errs.push(fe.required(path.child('dnsPolicy')));
  else if (!dnsPolicies.includes(dnsPolicy))
    errs.push(fe.notSupported(path.child('dnsPolicy'), dnsPolicy, dnsPolicies));
  errs.push(...validateLabelMap(spec.nodeSelector, path.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(spec, path));
  arr(spec.imagePullSecrets).forEach((s, i) => {
    if (isObj(s) && Object.entries(s).some(([k, v]) => k !== 'name' && isSet(v) && v !== ''))
      errs.push(fe.invalid(path.child('imagePullSecrets').index(i), s, 'only name may be set'));
  });
  errs.push(...validateAffinity(spec.affinity, path.child('affinity')));
  errs.push(...validateDNSConfig(spec.dnsConfig, dnsPolicy, path.child('dnsConfig')));
  for (const [g, i] of objItems(spec.readinessGates))
    errs.push(
      ...validateQualifiedName(
        str(g.conditionType),
        path.child('readinessGates').index(i).child('conditionType'),
      ),
    );
  const gates = new Set<string>();
  for (const [g, i] of objItems(spec.schedulingGates)) {
    const name = str(g.name);
    const gp = path.child('schedulingGates').index(i);
    errs.push(...validateQualifiedName(name, gp));
    if (gates.has(name)) errs.push(fe.duplicate(gp, name));
    gates.add(name);
  }
  errs.push(
    ...validateTopologySpreadConstraints(
      spec.topologySpreadConstraints,
      path.child('topologySpreadConstraints'),
    ),
  );
  if (!hostUsers) {
    const why = 'when `pod.Spec.HostUsers` is false';
    if (spec.hostNetwork === true) errs.push(fe.forbidden(path.child('hostNetwork'), why));
    if (spec.hostPID === true) errs.push(fe.forbidden(path.child('HostPID'), why));
    if (spec.hostIPC === true) errs.push(fe.forbidden(path.child('HostIPC'), why));
  }
  for (const f of ['serviceAccountName', 'nodeName']) {
    const v = str(spec[f]);
    if (v) errs.push(...invalidEach(path.child(f), v, isDNS1123Subdomain(v)));
  }
  const ads = num(spec.activeDeadlineSeconds);
  if (ads !== undefined && (ads < 1 || ads > 2147483647))
    errs.push(fe.invalid(path.child('activeDeadlineSeconds'), ads, activeDeadlineRange(1)));
  for (const f of ['hostname', 'subdomain']) {
    const v = str(spec[f]);
    if (v) errs.push(...validateDNS1123Label(v, path.child(f)));
  }
  errs.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  for (const [h, i] of objItems(spec.hostAliases)) {
    const hp = path.child('hostAliases').index(i);
    errs.push(...validateIP(str(h.ip), hp.child('ip')));
    strList(h.hostnames).forEach((n, j) => {
      errs.push(...validateDNS1123Subdomain(n, hp.child('hostnames').index(j)));
    });
  }
  const pcn = str(spec.priorityClassName);
  if (pcn) errs.push(...validateDNS1123Subdomain(pcn, path.child('priorityClassName')));
  const rcn = optStr(spec.runtimeClassName);
  if (rcn !== undefined) errs.push(...validateDNS1123Subdomain(rcn, path.child('runtimeClassName')));
  const pp = optStr(spec.preemptionPolicy);
  if (pp !== undefined) {
    if (pp === '') errs.push(fe.required(path.child('preemptionPolicy')));
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never')
      errs.push(fe.notSupported(path.child('preemptionPolicy'), pp, ['PreemptLowerPriority', 'Never']));
  }
  if (isObj(spec.overhead))
    errs.push(
      ...validateResourceRequirements(
        { limits: spec.overhead },
        new Set(),
        path.child('overhead'),
        validateContainerResourceName,
      ),
    );
  errs.push(...validateOS(spec, path));
  if (opts.resourceIsPod) {
    // validatePodMetadataAndSpec: pod-only checks.
    if (!str(spec.serviceAccountName)) {
      for (const p of serviceAccountTokenSources(spec.volumes, path.child('volumes')))
        errs.push(fe.forbidden(p, 'must not be specified when serviceAccountName is not set'));
    }
    for (const [c, i] of objItems(spec.containers))
      errs.push(...validateContainerOnlyForPod(c, path.child('containers').index(i)));
    for (const [c, i] of objItems(spec.initContainers))
      errs.push(...validateContainerOnlyForPod(c, path.child('initContainers').index(i)));
  }
  return errs;
}

/**
 * ValidatePodTemplateSpec: a workload's pod template (already defaulted with {@link defaultPodSpec})
 * at `path` (e.g. "spec.template"): the JSON types, labels and annotations (reported at
 * `<path>.labels` / `<path>.annotations`, as Kubernetes does), the pod-specific annotations, the
 * spec (as a template: host ports may be 0 under hostNetwork), and no ephemeral containers.
 * Type errors are returned alone, as a decoding failure would be. Total on arbitrary JSON.
 */
export function validatePodTemplateSpec(template: unknown, path: FieldPath | string): FieldError[] {
  const p = toPath(path);
  const shape = shapeErrors(template, podTemplateSpec, p);
  if (shape.length) return shape;
  const t = obj(template);
  const meta = obj(t.metadata);
  const errs: FieldError[] = [
    ...validateLabels(strMap(meta.labels), p.child('labels')),
    ...validateAnnotations(strMap(meta.annotations), p.child('annotations')),
    ...validatePodSpecificAnnotations(meta.annotations, t.spec, p.child('annotations')),
    ...validatePodSpec(t.spec, p.child('spec'), { resourceIsPod: false }),
  ];
  if (arr(obj(t.spec).ephemeralContainers).length > 0)
    errs.push(
      fe.forbidden(
        p.child('spec').child('ephemeralContainers'),
        'ephemeral containers not allowed in pod template',
      ),
    );
  return errs;
}
