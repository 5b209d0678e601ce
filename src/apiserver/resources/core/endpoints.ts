/** Endpoints: port protocols default to TCP; ValidateEndpoints (addresses, ports). */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { invalidEach, isValidPortNum, nameIsDNSSubdomain } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { validateDNS1123Label, validateQualifiedName } from './common.ts';
import { validateIP, validateNonSpecialIP } from './ip.ts';
import { defaultTo, fe, num, type Obj, objItems, optStr, str } from './json.ts';
import { o, shapeErrors } from './shape.ts';
import { endpointSubsets } from './shapes.ts';

export function defaultEndpoints(ep: KubeObject): void {
  for (const [ss] of objItems(ep.subsets))
    for (const [port] of objItems(ss.ports)) defaultTo(port, 'protocol', 'TCP');
}

function validateAddress(a: Obj, path: FieldPath): FieldError[] {
  const ip = str(a.ip);
  const errs = validateIP(ip, path.child('ip'));
  const hostname = str(a.hostname);
  if (hostname) errs.push(...validateDNS1123Label(hostname, path.child('hostname')));
  const nodeName = optStr(a.nodeName);
  if (nodeName !== undefined)
    errs.push(...invalidEach(path.child('nodeName'), nodeName, nameIsDNSSubdomain(nodeName, false)));
  errs.push(...validateNonSpecialIP(ip, path.child('ip')));
  return errs;
}

const protocols = ['SCTP', 'TCP', 'UDP'];

/** ValidateEndpoints' subsets */
export function validateEndpoints(ep: KubeObject): FieldError[] {
  const path = new FieldPath('subsets');
  const errs = shapeErrors(ep, o({ subsets: endpointSubsets }), new FieldPath(''));
  if (errs.length) return errs;
  for (const [ss, i] of objItems(ep.subsets)) {
    const p = path.index(i);
    const addresses = objItems(ss.addresses);
    const notReady = objItems(ss.notReadyAddresses);
    if (addresses.length === 0 && notReady.length === 0)
      errs.push(fe.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    for (const [a, j] of addresses) errs.push(...validateAddress(a, p.child('addresses').index(j)));
    for (const [a, j] of notReady) errs.push(...validateAddress(a, p.child('notReadyAddresses').index(j)));
    const ports = objItems(ss.ports);
    for (const [port, j] of ports) {
      const pp = p.child('ports').index(j);
      const name = str(port.name);
      if (ports.length > 1 && !name) errs.push(fe.required(pp.child('name')));
      else if (name) errs.push(...validateDNS1123Label(name, pp.child('name')));
      const n = num(port.port) ?? 0;
      errs.push(...invalidEach(pp.child('port'), n, isValidPortNum(n)));
      const proto = str(port.protocol);
      if (!proto) errs.push(fe.required(pp.child('protocol')));
      else if (!protocols.includes(proto)) errs.push(fe.notSupported(pp.child('protocol'), proto, protocols));
      const app = optStr(port.appProtocol);
      if (app !== undefined) errs.push(...validateQualifiedName(app, pp.child('appProtocol')));
    }
  }
  return errs;
}

export function endpointsStrategy(): Partial<Strategy> {
  return { defaults: defaultEndpoints, validate: (e) => validateEndpoints(e) };
}
