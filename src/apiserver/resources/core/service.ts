/**
 * The Service strategy: SetDefaults_Service, the clusterIP/clusterIPs normalization and the
 * update-time field patching of pkg/registry/core/service, and ValidateService /
 * ValidateServiceUpdate / ValidateServiceStatusUpdate. Allocating cluster IPs and node ports is not
 * done here; only their syntax, the node port range and immutability are checked.
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { invalidEach, isDNS1123Subdomain, isValidPortNum } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy, WriteContext } from '../../resource.ts';
import { validateDNS1123Label, validateLabelMap, validateQualifiedName } from './common.ts';
import { isDualStack, isIPv6String, parseIP, validateCIDR, validateIP, validateNonSpecialIP } from './ip.ts';
import { arr, fe, isObj, isSet, num, type Obj, obj, objItems, optStr, str, strList, strMap } from './json.ts';
import { validatePortNumOrName } from './probes.ts';
import {
  defaultService,
  externallyAccessible,
  isHeadless,
  MAX_CLIENT_IP_TIMEOUT,
  needsHealthCheck,
  prepareServiceUpdate,
  type ServiceOptions,
  type,
} from './service-defaults.ts';
import { shapeErrors } from './shape.ts';
import { serviceSpec, serviceStatus } from './shapes.ts';

const spec = new FieldPath('spec');

const supportedProtocols = ['SCTP', 'TCP', 'UDP'];
const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

/** validateServicePort */
function validateServicePort(
  p: Obj,
  requireName: boolean,
  names: Set<string>,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(p.name);
  if (requireName && !name) errs.push(fe.required(path.child('name')));
  else if (name) {
    errs.push(...validateDNS1123Label(name, path.child('name')));
    if (names.has(name)) errs.push(fe.duplicate(path.child('name'), name));
    else names.add(name);
  }
  const port = num(p.port) ?? 0;
  errs.push(...invalidEach(path.child('port'), port, isValidPortNum(port)));
  const proto = str(p.protocol);
  if (!proto) errs.push(fe.required(path.child('protocol')));
  else if (!supportedProtocols.includes(proto))
    errs.push(fe.notSupported(path.child('protocol'), proto, supportedProtocols));
  errs.push(...validatePortNumOrName(p.targetPort, path.child('targetPort')));
  const app = optStr(p.appProtocol);
  if (app !== undefined) errs.push(...validateQualifiedName(app, path.child('appProtocol')));
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields */
function validateClusterIPs(s: Obj): FieldError[] {
  if (type(s) === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ipsPath = spec.child('clusterIPs');
  const clusterIP = str(s.clusterIP);
  const clusterIPs = strList(s.clusterIPs);
  if (clusterIP) {
    if (clusterIPs.length === 0) errs.push(fe.required(ipsPath));
    else if (clusterIPs[0] !== clusterIP)
      errs.push(fe.invalid(ipsPath, clusterIPs, 'first value must match `clusterIP`'));
  } else if (clusterIPs.length) {
    errs.push(fe.invalid(ipsPath, clusterIPs, 'must be empty when `clusterIP` is not specified'));
  }
  const families = strList(s.ipFamilies);
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6')
      errs.push(fe.notSupported(spec.child('ipFamilies').index(i), f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(fe.duplicate(spec.child('ipFamilies').index(i), f));
    seen.add(f);
  });
  const policy = optStr(s.ipFamilyPolicy);
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (policy !== undefined && !policies.includes(policy))
    errs.push(fe.notSupported(spec.child('ipFamilyPolicy'), policy, policies));
  let invalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        invalidIPs = true;
        errs.push(fe.invalid(ipsPath, clusterIPs, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(ip, ipsPath.index(i));
    if (e.length) invalidIPs = true;
    errs.push(...e);
  });
  if (clusterIPs.length > 2) errs.push(fe.invalid(ipsPath, clusterIPs, 'may only hold up to 2 values'));
  if (invalidIPs) return errs;
  if (clusterIPs.length > 1 && !isDualStack(clusterIPs))
    errs.push(fe.invalid(ipsPath, clusterIPs, 'may specify no more than one IP for each IP family'));
  if (!isHeadless(s) && clusterIPs.length && families.length) {
    clusterIPs.forEach((ip, i) => {
      if (i >= families.length) return;
      if (families[i] === 'IPv4' && isIPv6String(ip))
        errs.push(
          fe.invalid(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``),
        );
      if (families[i] === 'IPv6' && !isIPv6String(ip))
        errs.push(
          fe.invalid(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``),
        );
    });
  }
  return errs;
}

const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';
const LB_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';

/** ValidateService (the spec; metadata is validated by the registry). */
export function validateService(o: KubeObject, opts: ServiceOptions = {}): FieldError[] {
  const shape = shapeErrors(o.spec, serviceSpec, spec);
  if (shape.length) return shape;
  const s = obj(o.spec);
  const errs: FieldError[] = [];
  const annotations = strMap(o.metadata.annotations);
  const mode = annotations[TOPOLOGY_MODE];
  const hints = annotations[TOPOLOGY_HINTS];
  if (mode !== undefined && hints !== undefined && mode !== hints)
    errs.push(
      fe.invalid(
        new FieldPath('metadata').child('annotations').key(TOPOLOGY_MODE),
        mode,
        `must match annotations[${TOPOLOGY_HINTS}] when both are specified`,
      ),
    );
  const t = str(s.type);
  const ports = objItems(s.ports);
  if (arr(s.ports).length === 0 && !isHeadless(s) && t !== 'ExternalName')
    errs.push(fe.required(spec.child('ports')));
  const first = strList(s.clusterIPs)[0];
  if ((t === 'LoadBalancer' || t === 'NodePort') && isHeadless(s)) {
    errs.push(
      fe.invalid(spec.child('clusterIPs').index(0), first, `may not be set to 'None' for ${t} services`),
    );
  } else if (t === 'ExternalName') {
    if (arr(s.clusterIPs).length > 0)
      errs.push(fe.forbidden(spec.child('clusterIPs'), 'may not be set for ExternalName services'));
    if (arr(s.ipFamilies).length > 0)
      errs.push(fe.forbidden(spec.child('ipFamilies'), 'may not be set for ExternalName services'));
    if (isSet(s.ipFamilyPolicy))
      errs.push(fe.forbidden(spec.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
    const cname = str(s.externalName).replace(/\.$/, '');
    if (cname) errs.push(...invalidEach(spec.child('externalName'), cname, isDNS1123Subdomain(cname)));
    else errs.push(fe.required(spec.child('externalName')));
  }
  const names = new Set<string>();
  for (const [p, i] of ports)
    errs.push(...validateServicePort(p, ports.length > 1, names, spec.child('ports').index(i)));
  if (isSet(s.selector)) errs.push(...validateLabelMap(s.selector, spec.child('selector')));
  const affinity = str(s.sessionAffinity);
  if (!affinity) errs.push(fe.required(spec.child('sessionAffinity')));
  else if (affinity !== 'ClientIP' && affinity !== 'None')
    errs.push(fe.notSupported(spec.child('sessionAffinity'), affinity, ['ClientIP', 'None']));
  const cfgPath = spec.child('sessionAffinityConfig');
  if (affinity === 'ClientIP') {
    const why = 'when session affinity type is ClientIP';
    const cfg = s.sessionAffinityConfig;
    if (!isObj(cfg)) errs.push(fe.required(cfgPath, why));
    else if (!isObj(cfg.clientIP)) errs.push(fe.required(cfgPath.child('clientIP'), why));
    else if (!isSet(cfg.clientIP.timeoutSeconds))
      errs.push(fe.required(cfgPath.child('clientIP').child('timeoutSeconds'), why));
    else {
      const timeout = num(cfg.clientIP.timeoutSeconds) ?? 0;
      if (timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT)
        errs.push(
          fe.invalid(
            cfgPath.child('clientIP').child('timeoutSeconds'),
            timeout,
            `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`,
          ),
        );
    }
  } else if (affinity === 'None' && isSet(s.sessionAffinityConfig)) {
    errs.push(fe.forbidden(cfgPath, 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPs(s));
  strList(s.externalIPs).forEach((ip, i) => {
    const p = spec.child('externalIPs').index(i);
    const e = validateIP(ip, p);
    errs.push(...(e.length ? e : validateNonSpecialIP(ip, p)));
  });
  if (!t) errs.push(fe.required(spec.child('type')));
  else if (!serviceTypes.includes(t)) errs.push(fe.notSupported(spec.child('type'), t, serviceTypes));
  if (t === 'ClusterIP') {
    for (const [p, i] of ports) {
      if (num(p.nodePort))
        errs.push(
          fe.forbidden(
            spec.child('ports').index(i).child('nodePort'),
            "may not be used when `type` is 'ClusterIP'",
          ),
        );
    }
  }
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  for (const [p, i] of ports) {
    const np = num(p.nodePort) ?? 0;
    if (np !== 0) {
      const key = `${str(p.protocol)}/${np}`;
      if (nodePorts.has(key)) errs.push(fe.duplicate(spec.child('ports').index(i).child('nodePort'), np));
      nodePorts.add(key);
    }
  }
  for (const [p, i] of ports) {
    const key = `${str(p.protocol)}/${num(p.port) ?? 0}`;
    if (portKeys.has(key))
      errs.push(
        fe.duplicate(spec.child('ports').index(i), { protocol: str(p.protocol), port: num(p.port) ?? 0 }),
      );
    portKeys.add(key);
  }
  // The node port allocator's range check (portallocator.ErrNotInRange).
  const [lo, hi] = opts.nodePortRange ?? [30000, 32767];
  const outOfRange = `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`;
  if (t !== 'ClusterIP') {
    for (const [p, i] of ports) {
      const np = num(p.nodePort) ?? 0;
      if (np !== 0 && (np < lo || np > hi))
        errs.push(fe.invalid(spec.child('ports').index(i).child('nodePort'), np, outOfRange));
    }
  }
  const ranges = strList(s.loadBalancerSourceRanges);
  if (ranges.length) {
    const p = spec.child('LoadBalancerSourceRanges');
    if (t !== 'LoadBalancer') errs.push(fe.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => {
      errs.push(...validateCIDR(r.trim(), p.index(i)));
    });
  } else if (annotations[LB_SOURCE_RANGES] !== undefined) {
    const p = new FieldPath('metadata').child('annotations').key(LB_SOURCE_RANGES);
    if (t !== 'LoadBalancer') errs.push(fe.forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = (annotations[LB_SOURCE_RANGES] ?? '').trim();
    if (val) for (const r of val.split(',')) errs.push(...validateCIDR(r.trim(), p));
  }
  if (isSet(s.allocateLoadBalancerNodePorts) && t !== 'LoadBalancer')
    errs.push(
      fe.forbidden(
        spec.child('allocateLoadBalancerNodePorts'),
        "may only be used when `type` is 'LoadBalancer'",
      ),
    );
  if (t === 'LoadBalancer' && !isSet(s.allocateLoadBalancerNodePorts))
    errs.push(fe.required(new FieldPath('allocateLoadBalancerNodePorts')));
  const lbClass = optStr(s.loadBalancerClass);
  if (lbClass !== undefined) {
    if (t === 'LoadBalancer') errs.push(...validateQualifiedName(lbClass, spec.child('loadBalancerClass')));
    else
      errs.push(
        fe.forbidden(spec.child('loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"),
      );
  }
  const etp = str(s.externalTrafficPolicy);
  if (!externallyAccessible(s)) {
    if (etp)
      errs.push(
        fe.invalid(
          spec.child('externalTrafficPolicy'),
          etp,
          'may only be set for externally-accessible services',
        ),
      );
  } else if (!etp) errs.push(fe.required(spec.child('externalTrafficPolicy')));
  else if (etp !== 'Cluster' && etp !== 'Local')
    errs.push(fe.notSupported(spec.child('externalTrafficPolicy'), etp, ['Cluster', 'Local']));
  const hc = num(s.healthCheckNodePort) ?? 0;
  if (!needsHealthCheck(s)) {
    if (hc !== 0)
      errs.push(
        fe.invalid(
          spec.child('healthCheckNodePort'),
          hc,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
  } else if (hc !== 0) {
    // A zero healthCheckNodePort is left for the allocator (Kubernetes allocates before validating).
    errs.push(...invalidEach(spec.child('healthCheckNodePort'), hc, isValidPortNum(hc)));
  }
  const itp = optStr(s.internalTrafficPolicy);
  if (itp === undefined) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(t))
      errs.push(fe.required(spec.child('internalTrafficPolicy')));
  } else if (itp !== 'Cluster' && itp !== 'Local') {
    errs.push(fe.notSupported(spec.child('internalTrafficPolicy'), itp, ['Cluster', 'Local']));
  }
  const td = optStr(s.trafficDistribution);
  const distributions = ['PreferClose', 'PreferSameZone', 'PreferSameNode'];
  if (td !== undefined && !distributions.includes(td))
    errs.push(fe.notSupported(spec.child('trafficDistribution'), td, distributions));
  return errs;
}

/** ValidateLoadBalancerStatus */
function validateServiceStatus(o: KubeObject): FieldError[] {
  const status = new FieldPath('status');
  const shape = shapeErrors(o.status, serviceStatus, status);
  if (shape.length) return shape;
  const errs: FieldError[] = [];
  const ingPath = status.child('loadBalancer').child('ingress');
  const ingress = objItems(obj(obj(o.status).loadBalancer).ingress);
  if (type(obj(o.spec)) !== 'LoadBalancer' && ingress.length) {
    return [fe.forbidden(ingPath, "may only be used when `spec.type` is 'LoadBalancer'")];
  }
  for (const [ing, i] of ingress) {
    const p = ingPath.index(i);
    const ip = str(ing.ip);
    if (ip) errs.push(...validateIP(ip, p.child('ip')));
    const ipMode = optStr(ing.ipMode);
    if (ipMode === undefined) {
      if (ip) errs.push(fe.required(p.child('ipMode'), 'must be specified when `ip` is set'));
    } else if (!ip) errs.push(fe.forbidden(p.child('ipMode'), 'may not be specified when `ip` is not set'));
    else if (ipMode !== 'Proxy' && ipMode !== 'VIP')
      errs.push(fe.notSupported(p.child('ipMode'), ipMode, ['Proxy', 'VIP']));
    const host = str(ing.hostname);
    if (host) {
      errs.push(...invalidEach(p.child('hostname'), host, isDNS1123Subdomain(host)));
      if (parseIP(host))
        errs.push(fe.invalid(p.child('hostname'), host, 'must be a DNS name, not an IP address'));
    }
  }
  return errs;
}

/** validateUpgradeDowngradeClusterIPs / IPFamilies, loadBalancerClass, healthCheckNodePort */
export function validateServiceUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const n = obj(next.spec);
  const o = obj(old.spec);
  const errs: FieldError[] = [];
  if (type(n) !== 'ExternalName' && type(o) !== 'ExternalName') {
    const nh = isHeadless(n);
    const oh = isHeadless(o);
    const ipsPath = spec.child('clusterIPs');
    const nIPs = strList(n.clusterIPs);
    const oIPs = strList(o.clusterIPs);
    if (!(nh && oh)) {
      if (oIPs.length === nIPs.length) {
        oIPs.forEach((ip, i) => {
          if (ip !== nIPs[i]) errs.push(fe.invalid(ipsPath.index(i), nIPs, 'may not change once set'));
        });
      } else if (oIPs.length > nIPs.length) {
        if (nIPs.length === 0)
          errs.push(fe.invalid(ipsPath.index(0), nIPs, 'primary clusterIP can not be unset'));
        if (oIPs.length > 0 && nIPs.length > 0 && nIPs[0] !== oIPs[0])
          errs.push(fe.invalid(ipsPath.index(0), nIPs, 'may not change once set'));
        if (nIPs.length === 1 && str(n.ipFamilyPolicy) !== 'SingleStack')
          errs.push(
            fe.invalid(
              spec.child('ipFamilyPolicy'),
              optStr(n.ipFamilyPolicy) ?? null,
              "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ),
          );
      } else if (oIPs.length > 0 && nIPs[0] !== oIPs[0]) {
        errs.push(fe.invalid(ipsPath.index(0), nIPs, 'may not change once set'));
      }
    }
    if (nh === oh && !nh) {
      const famPath = spec.child('ipFamilies');
      const nf = strList(n.ipFamilies);
      const of = strList(o.ipFamilies);
      if (of.length === nf.length) {
        of.forEach((f, i) => {
          if (f !== nf[i]) errs.push(fe.invalid(famPath.index(0), nf, 'may not change once set'));
        });
      } else if (of.length > nf.length) {
        if (nIPs.length === 0)
          errs.push(fe.invalid(famPath.index(0), nf, 'primary ipFamily can not be unset'));
        if (nf.length > 0 && nf[0] !== of[0])
          errs.push(fe.invalid(famPath.index(0), nIPs, 'may not change once set'));
        if (nf.length === 1 && str(n.ipFamilyPolicy) !== 'SingleStack')
          errs.push(
            fe.invalid(
              spec.child('ipFamilyPolicy'),
              optStr(n.ipFamilyPolicy) ?? null,
              "must be set to 'SingleStack' when releasing the secondary ipFamily",
            ),
          );
      } else if (of.length > 0 && nf.length > 0 && nf[0] !== of[0]) {
        errs.push(fe.invalid(famPath.index(0), nIPs, 'may not change once set'));
      }
    }
  }
  if (
    type(o) === 'LoadBalancer' &&
    type(n) === 'LoadBalancer' &&
    optStr(o.loadBalancerClass) !== optStr(n.loadBalancerClass)
  )
    errs.push(
      fe.invalid(
        spec.child('loadBalancerClass'),
        optStr(n.loadBalancerClass) ?? null,
        'may not change once set',
      ),
    );
  if (needsHealthCheck(o) && needsHealthCheck(n) && num(n.healthCheckNodePort) !== num(o.healthCheckNodePort))
    errs.push(fe.forbidden(spec.child('healthCheckNodePort'), 'field is immutable'));
  return errs;
}

/** The services strategy hooks. */
export function serviceStrategy(opts: ServiceOptions = {}): Partial<Strategy> {
  return {
    defaults: defaultService,
    prepareForUpdate(next, old, ctx: WriteContext) {
      if (ctx.subresource !== 'status') prepareServiceUpdate(next, old);
    },
    validate(o, ctx) {
      return ctx.subresource === 'status' ? validateServiceStatus(o) : validateService(o, opts);
    },
    validateUpdate(next, old, ctx) {
      if (ctx.subresource === 'status') return [];
      if (shapeErrors(next.spec, serviceSpec, spec).length) return [];
      return validateServiceUpdate(next, old);
    },
  };
}
