/**
 * Small helpers the printers share: defensive field access on plain JSON objects and the formatting
 * functions Kubernetes' printers call (labels.FormatLabels, metav1.FormatLabelSelector,
 * layoutContainerCells, translateTimestampSince, Quantity.String, IntOrString.String, ...).
 * Nothing here throws on missing or mistyped fields.
 */
import { type LabelSelector, labelSelectorAsSelector } from '../../../api/labels.ts';
import { parseQuantity } from '../../../api/quantity.ts';
import { compareStrings } from '../../../util/strings.ts';
import { isPlainObject } from '../../object.ts';
import { col, humanDuration } from '../table.ts';

export type Obj = Record<string, unknown>;

/** Whether `v` is a JSON object (a non-null, non-array object). */
export function isObj(v: unknown): v is Obj {
  return isPlainObject(v);
}

/** `v` when it is an object, else an empty one. */
export function rec(v: unknown): Obj {
  return isPlainObject(v) ? v : {};
}

/** `v` when it is an array, else an empty one. */
export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** `v` when it is an array, its object elements, else an empty array. */
export function recs(v: unknown): Obj[] {
  return arr(v).filter(isPlainObject);
}

/** `v` when it is a string, else "". */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** `v` when it is a finite number, else `dflt` (0). Go's zero value for missing integers. */
export function int(v: unknown, dflt = 0): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

/** `v` when it is a boolean, else `dflt` (false). */
export function bool(v: unknown, dflt = false): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

/** The number of keys of an object (Go's len() of a map); 0 for anything else. */
export function size(v: unknown): number {
  return isPlainObject(v) ? Object.keys(v).length : 0;
}

/** A timestamp in milliseconds, or undefined for a missing or unparsable one (Go's zero time). */
export function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** translateTimestampSince: the age of `ts` at `now`, or "<unknown>" for a zero timestamp. */
export function since(ts: unknown, now: number): string {
  const ms = timeOf(ts);
  return ms === undefined ? '<unknown>' : humanDuration(now - ms);
}

/** labels.FormatLabels: "k1=v1,k2=v2" sorted by key, or "<none>". */
export function formatLabels(labels: unknown): string {
  const entries = Object.entries(rec(labels)).sort(([a], [b]) => compareStrings(a, b));
  const s = entries.map(([k, v]) => `${k}=${String(v)}`).join(',');
  return s === '' ? '<none>' : s;
}

/** metav1.LabelSelectorAsSelector(...).String(); throws on an invalid selector. */
export function selectorString(selector: unknown): string {
  const sel = selector === null || selector === undefined ? undefined : (rec(selector) as LabelSelector);
  return labelSelectorAsSelector(sel).toString();
}

/** metav1.FormatLabelSelector: the selector's string, "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(selector: unknown): string {
  try {
    const s = selectorString(selector);
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}

/** layoutContainerCells: container names and images, each comma-joined. */
export function layoutContainerCells(containers: unknown): [names: string, images: string] {
  const cs = recs(containers);
  return [cs.map((c) => str(c.name)).join(','), cs.map((c) => str(c.image)).join(',')];
}

/** Quantity.String() of a JSON quantity; a missing one is Go's zero Quantity, "0". */
export function quantity(v: unknown): string {
  if (v === undefined || v === null) return '0';
  if (typeof v !== 'string' && typeof v !== 'number') return '0';
  try {
    return parseQuantity(v).toString();
  } catch {
    return String(v);
  }
}

/** intstr.IntOrString.String(). */
export function intOrString(v: unknown): string {
  if (typeof v === 'number') return String(Math.trunc(v));
  return str(v);
}

/** printBool / printBoolPtr: "True", "False", or "<unset>" for a missing value. */
export function boolPtr(v: unknown): string {
  if (typeof v !== 'boolean') return '<unset>';
  return v ? 'True' : 'False';
}

/** listWithMoreString: "a,b,c + 2 more...", or "<unset>" for an empty list. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** helper.GetAccessModesAsString: "RWO,ROX,RWX,RWOP" in that fixed order, duplicates dropped. */
export function accessModes(modes: unknown): string {
  const set = new Set(arr(modes));
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** Whether `conditions` has one of `type` whose status is "True" (the first of that type decides). */
export function conditionTrue(conditions: unknown, type: string): boolean {
  const c = recs(conditions).find((x) => x.type === type);
  return c !== undefined && c.status === 'True';
}

/** loadBalancerStatusStringer (wide): the distinct ingress IPs or hostnames, sorted, comma-joined. */
export function loadBalancerIngress(status: unknown): string {
  const set = new Set<string>();
  for (const ing of recs(rec(status).ingress)) {
    const ip = str(ing.ip);
    const host = str(ing.hostname);
    if (ip !== '') set.add(ip);
    else if (host !== '') set.add(host);
  }
  return [...set].sort(compareStrings).join(',');
}

// Column definitions every printer repeats, with Kubernetes' descriptions.
export const CONTAINERS_COLUMN = col('Containers', 'string', 'Names of each container in the template.', 1);
export const IMAGES_COLUMN = col(
  'Images',
  'string',
  'Images referenced by each container in the template.',
  1,
);
export const selectorColumn = (description: string, priority = 1) =>
  col('Selector', 'string', description, priority);
