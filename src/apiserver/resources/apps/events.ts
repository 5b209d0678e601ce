/**
 * events.k8s.io/v1 Event: ValidateEventCreate / ValidateEventUpdate as they apply to that API
 * (pkg/apis/core/validation/events.go). Kubernetes validates the internal (core) Event, so paths use
 * its field names: regarding is `involvedObject`, note is `message`, deprecatedSource is `source`,
 * deprecatedCount is `count`, deprecatedFirstTimestamp is `firstTimestamp` and so on.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { byteLength, isDNS1123Subdomain } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import { immutable, type KindRules, ROOT, semanticEqual, validateQualifiedName } from './common.ts';
import { obj as asObj, at, fe, isSet, num0, type Obj, str } from './json.ts';
import { anyObj, o, shapeErrors } from './shape.ts';

const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
const ACTION_LENGTH_LIMIT = 128;
const REASON_LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

const eventShape = o({
  eventTime: 'string',
  series: o({ count: 'int32', lastObservedTime: 'string' }),
  reportingController: 'string',
  reportingInstance: 'string',
  action: 'string',
  reason: 'string',
  regarding: o({ namespace: 'string' }),
  related: anyObj,
  note: 'string',
  type: 'string',
  deprecatedSource: o({ component: 'string', host: 'string' }),
  deprecatedFirstTimestamp: 'string',
  deprecatedLastTimestamp: 'string',
  deprecatedCount: 'int32',
});

const path = (p: string): FieldPath => ROOT.child(p);

/** A zero metav1.(Micro)Time: unset or empty. */
function isZeroTime(v: unknown): boolean {
  return !isSet(v) || v === '';
}

/** legacyValidateEvent for requests through events.k8s.io. */
function legacyValidate(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = obj.metadata.namespace ?? '';
  const regardingNs = str(at(obj, 'regarding', 'namespace'));
  const nsPath = ROOT.child('involvedObject').child('namespace');
  if (isZeroTime(obj.eventTime)) {
    if (regardingNs === '' ? ns !== '' && ns !== 'default' : ns !== regardingNs)
      errs.push(fe.invalid(nsPath, regardingNs, 'does not match event.namespace'));
  } else {
    if (regardingNs === '' && ns !== 'default' && ns !== 'kube-system')
      errs.push(fe.invalid(nsPath, regardingNs, 'does not match event.namespace'));
    const controller = str(obj.reportingController);
    if (controller.length === 0) errs.push(fe.required(path('reportingController')));
    errs.push(...validateQualifiedName(controller, path('reportingController')));
    const limits: [string, string, number][] = [
      ['reportingInstance', 'reportingInstance', REPORTING_INSTANCE_LENGTH_LIMIT],
      ['action', 'action', ACTION_LENGTH_LIMIT],
      ['reason', 'reason', REASON_LENGTH_LIMIT],
    ];
    for (const [field, internal, limit] of limits) {
      const v = str(obj[field]);
      if (v.length === 0) errs.push(fe.required(path(internal)));
      if (byteLength(v) > limit)
        errs.push(fe.invalid(path(internal), '', `can have at most ${limit} characters`));
    }
    if (byteLength(str(obj.note)) > NOTE_LENGTH_LIMIT)
      errs.push(fe.invalid(path('message'), '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
  }
  for (const msg of isDNS1123Subdomain(ns)) errs.push(fe.invalid(path('namespace'), ns, msg));
  return errs;
}

/** validateV1EventSeries */
function validateSeries(obj: KubeObject): FieldError[] {
  if (!isSet(obj.series)) return [];
  const series = asObj(obj.series);
  const errs: FieldError[] = [];
  if (num0(series.count) < 2) errs.push(fe.invalid(path('series.count'), '', 'should be at least 2'));
  if (isZeroTime(series.lastObservedTime)) errs.push(fe.required(path('series.lastObservedTime')));
  return errs;
}

function validateEventCreate(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, eventShape, ROOT);
  if (shape.length) return shape;
  const errs = [...legacyValidate(obj), ...validateSeries(obj)];
  if (isZeroTime(obj.eventTime)) errs.push(fe.required(path('eventTime')));
  const type = str(obj.type);
  if (type !== 'Normal' && type !== 'Warning')
    errs.push(fe.invalid(path('type'), '', `has invalid value: ${type}`));
  if (!isZeroTime(obj.deprecatedFirstTimestamp))
    errs.push(fe.invalid(path('firstTimestamp'), '', 'needs to be unset'));
  if (!isZeroTime(obj.deprecatedLastTimestamp))
    errs.push(fe.invalid(path('lastTimestamp'), '', 'needs to be unset'));
  if (num0(obj.deprecatedCount) !== 0) errs.push(fe.invalid(path('count'), '', 'needs to be unset'));
  const source: Obj = asObj(obj.deprecatedSource);
  if (str(source.component) !== '' || str(source.host) !== '')
    errs.push(fe.invalid(path('source'), '', 'needs to be unset'));
  return errs;
}

/** An RFC 3339 time truncated to microseconds, for comparing eventTimes (undefined when unparsable). */
function microKey(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(.*?)(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$/i.exec(v);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return `${ms}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

function validateEventUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, eventShape, ROOT);
  if (shape.length) return shape;
  const errs = legacyValidate(obj);
  if (!semanticEqual(obj.series, old.series)) errs.push(...validateSeries(obj));
  // Non-pointer fields: unset is the zero value.
  const zeroStr = (v: unknown) => str(v);
  const zeroObj = (v: unknown) => asObj(v);
  const fields: [string, string, (v: unknown) => unknown][] = [
    ['regarding', 'involvedObject', zeroObj],
    ['reason', 'reason', zeroStr],
    ['note', 'message', zeroStr],
    ['deprecatedSource', 'source', zeroObj],
    ['deprecatedFirstTimestamp', 'firstTimestamp', zeroStr],
    ['deprecatedLastTimestamp', 'lastTimestamp', zeroStr],
    ['deprecatedCount', 'count', num0],
    ['type', 'type', zeroStr],
  ];
  for (const [field, internal, zero] of fields)
    errs.push(...immutable(zero(obj[field]), zero(old[field]), path(internal)));
  // Sub-microsecond differences in eventTime are tolerated.
  const nextTime = microKey(obj.eventTime) ?? str(obj.eventTime);
  const prevTime = microKey(old.eventTime) ?? str(old.eventTime);
  if (nextTime !== prevTime)
    errs.push(...immutable(str(obj.eventTime), str(old.eventTime), path('eventTime')));
  errs.push(...immutable(str(obj.action), str(old.action), path('action')));
  errs.push(...immutable(obj.related, old.related, path('related')));
  errs.push(
    ...immutable(str(obj.reportingController), str(old.reportingController), path('reportingController')),
  );
  errs.push(...immutable(str(obj.reportingInstance), str(old.reportingInstance), path('reportingInstance')));
  return errs;
}

export function eventRules(): KindRules {
  return { validateCreate: validateEventCreate, validateUpdate: validateEventUpdate };
}
