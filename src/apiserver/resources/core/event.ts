/**
 * core/v1 Events: legacyValidateEvent, the only validation Kubernetes applies to events written
 * through the v1 API (creates and updates alike).
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { invalidEach, isDNS1123Subdomain, isQualifiedName } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { fe, obj, str } from './json.ts';
import { shapeErrors } from './shape.ts';
import { eventShape } from './shapes.ts';

const p = (s: string) => new FieldPath(s);

/** legacyValidateEvent */
export function validateEvent(ev: KubeObject): FieldError[] {
  const errs = shapeErrors(ev, eventShape, p(''));
  if (errs.length) return errs;
  const namespace = ev.metadata.namespace ?? '';
  const involvedNS = str(obj(ev.involvedObject).namespace);
  const nsPath = p('involvedObject').child('namespace');
  const mismatch = () => errs.push(fe.invalid(nsPath, involvedNS, 'does not match event.namespace'));
  if (!str(ev.eventTime)) {
    if (!involvedNS) {
      if (namespace !== '' && namespace !== 'default') mismatch();
    } else if (namespace !== involvedNS) mismatch();
  } else {
    if (!involvedNS && namespace !== 'default' && namespace !== 'kube-system') mismatch();
    const controller = str(ev.reportingComponent);
    if (!controller) errs.push(fe.required(p('reportingController')));
    errs.push(...invalidEach(p('reportingController'), controller, isQualifiedName(controller)));
    const limits: [string, string, number][] = [
      ['reportingInstance', 'reportingInstance', 128],
      ['action', 'action', 128],
      ['reason', 'reason', 128],
    ];
    for (const [field, path, max] of limits) {
      const v = str(ev[field]);
      if (!v) errs.push(fe.required(p(path)));
      if (Buffer.byteLength(v) > max)
        errs.push(fe.invalid(p(path), '', `can have at most ${max} characters`));
    }
    if (Buffer.byteLength(str(ev.message)) > 1024)
      errs.push(fe.invalid(p('message'), '', 'can have at most 1024 characters'));
  }
  errs.push(...invalidEach(p('namespace'), namespace, isDNS1123Subdomain(namespace)));
  return errs;
}

export function eventStrategy(): Partial<Strategy> {
  return { validate: (e) => validateEvent(e) };
}
