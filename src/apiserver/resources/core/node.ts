/**
 * Nodes: SetDefaults_NodeStatus (allocatable from capacity), podCIDR/podCIDRs kept in step (the v1
 * conversion), ValidateNode and ValidateNodeUpdate (podCIDRs and providerID are set once).
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { isDualStackCIDRs, validateCIDR } from './ip.ts';
import { ensureObj, fe, isObj, isSet, jsonEqual, obj, objItems, str, strList } from './json.ts';
import { canonicalizeQuantities, resourceList, validateResourceQuantityValue } from './resources.ts';
import { validateTaints } from './scheduling.ts';
import { o, shapeErrors } from './shape.ts';
import { nodeSpec, nodeStatus } from './shapes.ts';

export function defaultNode(node: KubeObject): void {
  const spec = ensureObj(node, 'spec');
  if (spec) {
    const cidrs = strList(spec.podCIDRs);
    if (str(spec.podCIDR) && cidrs.length === 0) spec.podCIDRs = [spec.podCIDR];
    else if (cidrs.length > 0 && !str(spec.podCIDR)) spec.podCIDR = cidrs[0];
  }
  const status = node.status;
  if (isObj(status)) {
    canonicalizeQuantities(status.capacity);
    canonicalizeQuantities(status.allocatable);
    if (!isSet(status.allocatable) && isObj(status.capacity)) status.allocatable = { ...status.capacity };
  }
}

const shape = o({ spec: nodeSpec, status: nodeStatus });

/** ValidateNode (metadata aside): taints, capacity and allocatable, podCIDRs. */
export function validateNode(node: KubeObject): FieldError[] {
  const errs = shapeErrors(node, shape, new FieldPath(''));
  if (errs.length) return errs;
  const spec = obj(node.spec);
  // Kubernetes reports node taints under metadata.taints.
  errs.push(...validateTaints(spec.taints, new FieldPath('metadata').child('taints')));
  const status = obj(node.status);
  for (const key of ['capacity', 'allocatable']) {
    for (const [k, q] of resourceList(status[key]))
      errs.push(...validateResourceQuantityValue(k, q, new FieldPath('status').child(key).child(k)));
  }
  const cidrs = strList(spec.podCIDRs);
  const path = new FieldPath('spec').child('podCIDRs');
  cidrs.forEach((c, i) => {
    errs.push(...validateCIDR(c, path.index(i)));
  });
  if (cidrs.length > 1) {
    if (!isDualStackCIDRs(cidrs) || cidrs.length > 2)
      errs.push(fe.invalid(path, cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(fe.duplicate(path.index(i), c));
      seen.add(c);
    });
  }
  return errs;
}

/** ValidateNodeUpdate's rules beyond ValidateNode. */
export function validateNodeUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  if (shapeErrors(next, shape, new FieldPath('')).length) return [];
  const errs: FieldError[] = [];
  const seen: unknown[] = [];
  for (const [a, i] of objItems(obj(next.status).addresses)) {
    const addr = { type: str(a.type), address: str(a.address) };
    if (seen.some((s) => jsonEqual(s, addr)))
      errs.push(fe.duplicate(new FieldPath('status').child('addresses').index(i), addr));
    seen.push(addr);
  }
  const ns = obj(next.spec);
  const os = obj(old.spec);
  const oldCIDRs = strList(os.podCIDRs);
  const newCIDRs = strList(ns.podCIDRs);
  const cidrMsg = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== newCIDRs.length)
      errs.push(fe.forbidden(new FieldPath('spec').child('podCIDRs'), cidrMsg));
    else
      oldCIDRs.forEach((c, i) => {
        if (c !== newCIDRs[i]) errs.push(fe.forbidden(new FieldPath('spec').child('podCIDRs'), cidrMsg));
      });
  }
  if (str(os.providerID) && str(os.providerID) !== str(ns.providerID))
    errs.push(
      fe.forbidden(
        new FieldPath('spec').child('providerID'),
        'node updates may not change providerID except from "" to valid',
      ),
    );
  if (str(ns.externalID) !== str(os.externalID))
    errs.push(fe.forbidden(new FieldPath('spec').child('externalID'), 'may not be updated'));
  return errs;
}

export function nodeStrategy(): Partial<Strategy> {
  return {
    defaults: defaultNode,
    validate: (n) => validateNode(n),
    validateUpdate: (n, o2) => validateNodeUpdate(n, o2),
  };
}
