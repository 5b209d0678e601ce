/** Probes and lifecycle handlers: validateProbe, validateHandler, validateLifecycle. */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { invalidEach, isValidPortName, isValidPortNum } from '../../../api/validation.ts';
import { isHTTPHeaderName, validateNonnegative } from './common.ts';
import { arr, fe, isObj, isSet, num, type Obj, objItems, str } from './json.ts';

/** ValidatePortNumOrName (an IntOrString port; absent reads as 0). */
export function validatePortNumOrName(port: unknown, path: FieldPath): FieldError[] {
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
  const n = num(port) ?? 0;
  return invalidEach(path, n, isValidPortNum(n));
}

/** validateHandler: exactly one of exec, httpGet, tcpSocket, grpc (probes) or sleep (lifecycle). */
function validateHandler(
  h: Obj,
  kinds: readonly string[],
  gracePeriod: number | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of kinds) {
    const v = h[kind];
    if (!isObj(v)) continue;
    const p = path.child(kind);
    if (n > 0) {
      errs.push(fe.forbidden(p, 'may not specify more than 1 handler type'));
      continue;
    }
    n++;
    switch (kind) {
      case 'exec':
        if (arr(v.command).length === 0) errs.push(fe.required(p.child('command')));
        break;
      case 'httpGet': {
        if (!str(v.path)) errs.push(fe.required(p.child('path')));
        errs.push(...validatePortNumOrName(v.port, p.child('port')));
        const scheme = str(v.scheme);
        if (scheme !== 'HTTP' && scheme !== 'HTTPS')
          errs.push(fe.notSupported(p.child('scheme'), scheme, ['HTTP', 'HTTPS']));
        for (const [hdr] of objItems(v.httpHeaders)) {
          const name = str(hdr.name);
          errs.push(...invalidEach(p.child('httpHeaders'), name, isHTTPHeaderName(name)));
        }
        break;
      }
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(v.port, p.child('port')));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(num(v.port) ?? 0, p.child('port')));
        break;
      case 'sleep': {
        const s = num(v.seconds) ?? 0;
        if (gracePeriod !== undefined && (s < 0 || s > gracePeriod)) {
          errs.push(
            fe.invalid(
              p,
              s,
              `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`,
            ),
          );
        }
        break;
      }
    }
  }
  if (n === 0) errs.push(fe.required(path, 'must specify a handler type'));
  return errs;
}

const probeHandlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const lifecycleHandlers = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

/** validateProbe */
function validateProbe(probe: Obj, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  const errs = validateHandler(probe, probeHandlers, gracePeriod, path);
  for (const f of [
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ]) {
    errs.push(...validateNonnegative(num(probe[f]), path.child(f)));
  }
  const tgp = num(probe.terminationGracePeriodSeconds);
  if (tgp !== undefined && tgp <= 0)
    errs.push(fe.invalid(path.child('terminationGracePeriodSeconds'), tgp, 'must be greater than 0'));
  return errs;
}

/** validateLivenessProbe / validateReadinessProbe / validateStartupProbe */
function validateProbes(c: Obj, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const probe = c[kind];
    if (!isObj(probe)) continue;
    const p = path.child(kind);
    errs.push(...validateProbe(probe, gracePeriod, p));
    if (kind === 'readinessProbe') {
      if (isSet(probe.terminationGracePeriodSeconds))
        errs.push(
          fe.invalid(
            p.child('terminationGracePeriodSeconds'),
            probe.terminationGracePeriodSeconds,
            'must not be set for readinessProbes',
          ),
        );
    } else if ((num(probe.successThreshold) ?? 0) !== 1) {
      errs.push(fe.invalid(p.child('successThreshold'), num(probe.successThreshold) ?? 0, 'must be 1'));
    }
  }
  return errs;
}

/** validateLifecycle */
function validateLifecycle(lc: Obj, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const kind of ['postStart', 'preStop'] as const) {
    const h = lc[kind];
    if (isObj(h)) errs.push(...validateHandler(h, lifecycleHandlers, gracePeriod, path.child(kind)));
  }
  return errs;
}

/** The probes and lifecycle of a regular or restartable init container. */
export function validateProbesAndLifecycle(
  c: Obj,
  gracePeriod: number | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  if (isObj(c.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, gracePeriod, path.child('lifecycle')));
  errs.push(...validateProbes(c, gracePeriod, path));
  return errs;
}
