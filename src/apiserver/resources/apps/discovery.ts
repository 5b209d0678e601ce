/**
 * discovery.k8s.io/v1 EndpointSlice: the port defaults (name "", protocol TCP), ValidateEndpointSlice
 * (addressType, endpoint addresses by type, node names, hostnames, hints, ports) and the update
 * rules: addressType is immutable and unchanged endpoints are not re-validated
 * (pkg/apis/discovery/v1/defaults.go, pkg/apis/discovery/validation).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import {
  invalidEach,
  isDNS1123Label,
  isDNS1123Subdomain,
  isLabelValue,
  validateLabels,
} from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import { immutable, type KindRules, ROOT, semanticEqual, validateQualifiedName } from './common.ts';
import { arr, defaultUnset, fe, isSet, type Obj, objItems, optStrMap, str } from './json.ts';
import { a, anyObj, o, shapeErrors, strMapShape, strs } from './shape.ts';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_ENDPOINTS = 1000;
const MAX_ZONE_HINTS = 8;
const MAX_NODE_HINTS = 8;

const endpointSliceShape = o({
  addressType: 'string',
  endpoints: a(
    o({
      addresses: strs,
      conditions: o({ ready: 'bool', serving: 'bool', terminating: 'bool' }),
      hostname: 'string',
      targetRef: anyObj,
      deprecatedTopology: strMapShape,
      nodeName: 'string',
      zone: 'string',
      hints: o({ forZones: a(o({ name: 'string' })), forNodes: a(o({ name: 'string' })) }),
    }),
  ),
  ports: a(o({ name: 'string', protocol: 'string', port: 'int32', appProtocol: 'string' })),
});

/** An address as Go's net.ParseIP sees it: 16 bytes, and whether it is an IPv4 (or IPv4-mapped) one. */
interface ParsedIP {
  bytes: number[];
  v4: boolean;
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** netutils.ParseIPSloppy (leading zeros in IPv4 parts allowed). */
export function parseIP(s: string): ParsedIP | undefined {
  const v4 = parseIPv4(s);
  if (v4) return { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4], v4: true };
  if (!s.includes(':') || s.includes('%')) return undefined;
  let head = s;
  let tail4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const t = parseIPv4(s.slice(lastColon + 1));
    if (!t) return undefined;
    tail4 = t;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!left || !right) return undefined;
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...left, ...new Array<number>(8 - total).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail4.length) bytes.splice(12, 4, ...tail4);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return { bytes, v4: mapped };
}

/** ValidateNonSpecialIP: no unspecified, loopback or link-local addresses. */
function validateNonSpecialIP(address: string, path: FieldPath): FieldError[] {
  const ip = parseIP(address);
  if (!ip) return [fe.invalid(path, address, 'must be a valid IP address')];
  const b = ip.bytes;
  const errs: FieldError[] = [];
  const v4 = b.slice(12);
  const unspecified = ip.v4 ? v4.every((x) => x === 0) : b.every((x) => x === 0);
  const loopback = ip.v4 ? v4[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  const linkLocal = ip.v4
    ? v4[0] === 169 && v4[1] === 254
    : b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80;
  const linkLocalMulticast = ip.v4
    ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0
    : b[0] === 0xff && ((b[1] as number) & 0x0f) === 0x02;
  if (unspecified) errs.push(fe.invalid(path, address, `may not be unspecified (${address})`));
  if (loopback)
    errs.push(fe.invalid(path, address, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocal)
    errs.push(fe.invalid(path, address, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast)
    errs.push(
      fe.invalid(path, address, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'),
    );
  return errs;
}

/** validation.IsFullyQualifiedDomainName */
function isFullyQualifiedDomainName(path: FieldPath, value: string): FieldError[] {
  if (value.length === 0) return [fe.required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const errs = isDNS1123Subdomain(name);
  if (errs.length) return [fe.invalid(path, name, errs.join(','))];
  const labels = name.split('.');
  if (labels.length < 2)
    return [fe.invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const e = isDNS1123Label(label);
    if (e.length) return [fe.invalid(path, label, e.join(','))];
  }
  return [];
}

function validateAddress(addressType: string, address: string, path: FieldPath): FieldError[] {
  switch (addressType) {
    case 'IPv4': {
      const ip = parseIP(address);
      const errs = ip?.v4 ? [] : [fe.invalid(path, address, 'must be a valid IPv4 address')];
      return [...errs, ...validateNonSpecialIP(address, path)];
    }
    case 'IPv6': {
      const ip = parseIP(address);
      const errs = ip && !ip.v4 ? [] : [fe.invalid(path, address, 'must be a valid IPv6 address')];
      return [...errs, ...validateNonSpecialIP(address, path)];
    }
    case 'FQDN':
      return isFullyQualifiedDomainName(path, address);
    default:
      return [];
  }
}

function validateHints(hints: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const zonesPath = path.child('forZones');
  const zones = arr(hints.forZones);
  if (zones.length > MAX_ZONE_HINTS) return [fe.tooMany(zonesPath, zones.length, MAX_ZONE_HINTS)];
  const seenZones = new Set<string>();
  for (const [zone, i] of objItems(zones)) {
    const p = zonesPath.index(i).child('name');
    const name = str(zone.name);
    if (seenZones.has(name)) errs.push(fe.duplicate(p, name));
    else seenZones.add(name);
    errs.push(...invalidEach(p, name, isLabelValue(name)));
  }
  const nodesPath = path.child('forNodes');
  const nodes = arr(hints.forNodes);
  if (nodes.length > MAX_NODE_HINTS) return [...errs, fe.tooMany(nodesPath, nodes.length, MAX_NODE_HINTS)];
  const seenNodes = new Set<string>();
  for (const [node, i] of objItems(nodes)) {
    const p = nodesPath.index(i).child('name');
    const name = str(node.name);
    if (seenNodes.has(name)) errs.push(fe.duplicate(p, name));
    else seenNodes.add(name);
    errs.push(...invalidEach(p, name, isDNS1123Subdomain(name)));
  }
  return errs;
}

function validateEndpoints(endpoints: unknown, addressType: string, path: FieldPath): FieldError[] {
  const list = arr(endpoints);
  if (list.length > MAX_ENDPOINTS) return [fe.tooMany(path, list.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  for (const [ep, i] of objItems(list)) {
    const idxPath = path.index(i);
    const addressPath = idxPath.child('addresses');
    const addresses = arr(ep.addresses);
    if (addresses.length === 0) errs.push(fe.required(addressPath, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES)
      errs.push(fe.tooMany(addressPath, addresses.length, MAX_ADDRESSES));
    addresses.forEach((addr, j) => {
      errs.push(...validateAddress(addressType, str(addr), addressPath.index(j)));
    });
    if (typeof ep.nodeName === 'string')
      errs.push(...invalidEach(idxPath.child('nodeName'), ep.nodeName, isDNS1123Subdomain(ep.nodeName)));
    const topologyPath = idxPath.child('deprecatedTopology');
    const topology = optStrMap(ep.deprecatedTopology);
    if (topology && Object.keys(topology).length > MAX_TOPOLOGY_LABELS)
      errs.push(fe.tooMany(topologyPath, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(topology, topologyPath));
    if (typeof ep.hostname === 'string')
      errs.push(...invalidEach(idxPath.child('hostname'), ep.hostname, isDNS1123Label(ep.hostname)));
    if (isSet(ep.hints)) errs.push(...validateHints(ep.hints as Obj, idxPath.child('hints')));
  }
  return errs;
}

function validatePorts(ports: unknown, path: FieldPath): FieldError[] {
  const list = arr(ports);
  if (list.length > MAX_PORTS) return [fe.tooMany(path, list.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  for (const [port, i] of objItems(list)) {
    const idxPath = path.index(i);
    const name = str(port.name);
    if (name.length > 0) errs.push(...invalidEach(idxPath.child('name'), name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(fe.duplicate(idxPath.child('name'), name));
    else names.add(name);
    if (!isSet(port.protocol)) errs.push(fe.required(idxPath.child('protocol')));
    else if (!PROTOCOLS.includes(str(port.protocol)))
      errs.push(fe.notSupported(idxPath.child('protocol'), str(port.protocol), PROTOCOLS));
    if (typeof port.appProtocol === 'string')
      errs.push(...validateQualifiedName(port.appProtocol, idxPath.child('appProtocol')));
  }
  return errs;
}

function validateAddressType(v: unknown): FieldError[] {
  const t = str(v);
  if (t === '') return [fe.required(ROOT.child('addressType'))];
  return ADDRESS_TYPES.includes(t) ? [] : [fe.notSupported(ROOT.child('addressType'), t, ADDRESS_TYPES)];
}

/** ValidateEndpointSlice; with `old`, endpoints that did not change are not re-validated. */
function validateEndpointSlice(obj: KubeObject, old?: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, endpointSliceShape, ROOT);
  if (shape.length) return shape;
  const errs = [...validateAddressType(obj.addressType), ...validatePorts(obj.ports, ROOT.child('ports'))];
  if (!old || !semanticEqual(old.endpoints ?? [], obj.endpoints ?? []))
    errs.push(...validateEndpoints(obj.endpoints, str(obj.addressType), ROOT.child('endpoints')));
  return errs;
}

export function endpointSliceRules(): KindRules {
  return {
    defaults(obj) {
      for (const [port] of objItems(obj.ports)) {
        defaultUnset(port, 'name', '');
        defaultUnset(port, 'protocol', 'TCP');
      }
    },
    validateCreate: (obj) => validateEndpointSlice(obj),
    validateUpdate: (obj, old) => [
      ...validateEndpointSlice(obj, old),
      ...immutable(str(obj.addressType), str(old.addressType), ROOT.child('addressType')),
    ],
  };
}
