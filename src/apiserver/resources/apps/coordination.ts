/**
 * coordination.k8s.io/v1 Lease: ValidateLeaseSpec (leaseDurationSeconds > 0, leaseTransitions >= 0),
 * on create and update alike (pkg/apis/coordination/validation).
 */
import type { FieldError } from '../../../api/errors.ts';
import type { KubeObject } from '../../object.ts';
import { type KindRules, objSpec, ROOT, SPEC } from './common.ts';
import { fe, num } from './json.ts';
import { o, shapeErrors } from './shape.ts';

const leaseShape = o({
  spec: o({
    holderIdentity: 'string',
    leaseDurationSeconds: 'int32',
    acquireTime: 'string',
    renewTime: 'string',
    leaseTransitions: 'int32',
    strategy: 'string',
    preferredHolder: 'string',
  }),
});

function validateLease(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, leaseShape, ROOT);
  if (shape.length) return shape;
  const spec = objSpec(obj);
  const errs: FieldError[] = [];
  const duration = num(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0)
    errs.push(fe.invalid(SPEC.child('leaseDurationSeconds'), duration, 'must be greater than 0'));
  const transitions = num(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0)
    errs.push(fe.invalid(SPEC.child('leaseTransitions'), transitions, 'must be greater than or equal to 0'));
  return errs;
}

export function leaseRules(): KindRules {
  return { validateCreate: validateLease, validateUpdate: validateLease };
}
