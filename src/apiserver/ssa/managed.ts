/**
 * `metadata.managedFields` in memory: one {@link ManagerSet} per manager identity (manager name,
 * operation, subresource, and for updates the apiVersion), decoded from and encoded to the wire form
 * exactly as Kubernetes writes it (k8s.io/apimachinery/pkg/util/managedfields/internal/managedfields.go).
 */

import { compareStrings } from '../../util/strings.ts';
import type { ManagedFieldsEntry } from '../object.ts';
import { isObject } from '../patch/json.ts';
import { FieldSet, goJson, goQuote } from './fieldpath.ts';

export type Operation = 'Apply' | 'Update';

/** Who manages a set of fields: everything of an entry but the fields and the time. */
export interface ManagerInfo {
  readonly manager: string;
  readonly operation: Operation;
  /** Part of the identity of updaters only (appliers keep one entry whatever version they use). */
  readonly apiVersion: string;
  readonly subresource?: string;
}

/** The fields one manager owns. */
export interface ManagerSet extends ManagerInfo {
  readonly set: FieldSet;
  /** RFC 3339; absent when Kubernetes would not have set one. */
  readonly time?: string;
}

/** Manager identifier → its set (fieldpath.ManagedFields with times). */
export type Managed = Map<string, ManagerSet>;

/**
 * The identifier Kubernetes keys managers by (BuildManagerIdentifier): the entry without fields and
 * time, and without apiVersion for appliers, as JSON in field order.
 */
export function managerId(info: ManagerInfo): string {
  const parts: [string, string][] = [];
  if (info.manager) parts.push(['manager', info.manager]);
  parts.push(['operation', info.operation]);
  if (info.operation === 'Update' && info.apiVersion) parts.push(['apiVersion', info.apiVersion]);
  if (info.subresource) parts.push(['subresource', info.subresource]);
  return `{${parts.map(([k, v]) => `${goJson(k)}:${goJson(v)}`).join(',')}}`;
}

/** The manager as conflict messages name it: `"kubectl"`, `"kube-controller-manager" using apps/v1`. */
export function printManager(id: string): string {
  let info: Partial<ManagerInfo>;
  try {
    info = JSON.parse(id) as Partial<ManagerInfo>;
  } catch {
    return goQuote(id);
  }
  let s = goQuote(info.manager ?? '');
  if (info.subresource) s += ` with subresource ${goQuote(info.subresource)}`;
  if (info.operation === 'Update') s += ` using ${info.apiVersion ?? ''}`;
  return s;
}

/** A managedFields list that cannot be decoded. */
export class ManagedFieldsError extends Error {
  override name = 'ManagedFieldsError';
}

/** DecodeManagedFields: wire entries → sets by identifier. Throws {@link ManagedFieldsError}. */
export function decodeManagedFields(entries: unknown): Managed {
  const out: Managed = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new ManagedFieldsError('managedFields must be a list');
  entries.forEach((e: unknown, i) => {
    if (!isObject(e as never)) throw new ManagedFieldsError(`managed fields entry ${i} is not an object`);
    const entry = e as ManagedFieldsEntry;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') {
      throw new ManagedFieldsError('operation must be `Apply` or `Update`');
    }
    if (!entry.apiVersion) throw new ManagedFieldsError('apiVersion must not be empty');
    if (entry.fieldsType === undefined || (entry.fieldsType as string) === '') {
      throw new ManagedFieldsError(`missing fieldsType in managed fields entry ${i}`);
    }
    if (entry.fieldsType !== 'FieldsV1') {
      throw new ManagedFieldsError(`invalid fieldsType "${entry.fieldsType}" in managed fields entry ${i}`);
    }
    let set: FieldSet;
    try {
      set =
        entry.fieldsV1 === undefined || entry.fieldsV1 === null
          ? new FieldSet()
          : FieldSet.fromFieldsV1(entry.fieldsV1);
    } catch (err) {
      throw new ManagedFieldsError(
        `error decoding versioned set: error decoding set: ${(err as Error).message}`,
      );
    }
    const info: ManagerInfo = {
      manager: entry.manager ?? '',
      operation: entry.operation,
      apiVersion: entry.apiVersion,
      ...(entry.subresource ? { subresource: entry.subresource } : {}),
    };
    out.set(managerId(info), { ...info, set, ...(entry.time ? { time: entry.time } : {}) });
  });
  return out;
}

function seconds(t: string | undefined): number {
  if (!t) return 0;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

/** Orders entries as sortEncodedManagedFields: operation, time (seconds), manager, apiVersion, subresource. */
function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  const fields: ((e: ManagedFieldsEntry) => string)[] = [
    (e) => e.operation ?? '',
    (e) => String(seconds(e.time)).padStart(16, '0'),
    (e) => e.manager ?? '',
    (e) => e.apiVersion ?? '',
    (e) => e.subresource ?? '',
  ];
  for (const f of fields) {
    const c = compareStrings(f(p), f(q));
    if (c !== 0) return c;
  }
  return 0;
}

/** encodeManagedFields: sets → wire entries, sorted; `undefined` when there are none (the field is dropped). */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const m of managed.values()) out.push(encodeEntry(m, m.time, m.set.toFieldsV1()));
  return out.sort(compareEntries);
}

/** One wire entry, its keys in Kubernetes' order; empty strings are left out. */
export function encodeEntry(
  info: ManagerInfo,
  time: string | undefined,
  fieldsV1: Record<string, unknown>,
): ManagedFieldsEntry {
  const e: ManagedFieldsEntry = {};
  if (info.manager) e.manager = info.manager;
  e.operation = info.operation;
  if (info.apiVersion) e.apiVersion = info.apiVersion;
  if (time) e.time = time;
  e.fieldsType = 'FieldsV1';
  e.fieldsV1 = fieldsV1;
  if (info.subresource) e.subresource = info.subresource;
  return e;
}

/** The most Update entries kept; older ones are merged into `ancient-changes` buckets per apiVersion. */
export const MAX_UPDATE_MANAGERS = 10;

/** capUpdateManagers: merges the oldest update entries until at most {@link MAX_UPDATE_MANAGERS} remain. */
export function capUpdateManagers(managed: Managed, max = MAX_UPDATE_MANAGERS): Managed {
  const updaters = [...managed.entries()].filter(([, m]) => m.operation === 'Update').map(([id]) => id);
  if (updaters.length <= max) return managed;
  const out: Managed = new Map(managed);
  updaters.sort((a, b) => {
    const d = seconds(managed.get(a)?.time) - seconds(managed.get(b)?.time);
    return d !== 0 ? d : compareStrings(a, b);
  });
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i] as string;
    const m = out.get(id) as ManagerSet;
    const version = m.apiVersion;
    const bucketInfo: ManagerInfo = { manager: 'ancient-changes', operation: 'Update', apiVersion: version };
    const bucket = managerId(bucketInfo);
    const first = firstByVersion.get(version);
    if (first === undefined) {
      firstByVersion.set(version, id);
      continue;
    }
    if (!out.has(bucket)) {
      const f = out.get(first) as ManagerSet;
      out.delete(first);
      out.set(bucket, { ...bucketInfo, set: f.set, ...(f.time ? { time: f.time } : {}) });
    }
    const b = out.get(bucket) as ManagerSet;
    out.set(bucket, { ...bucketInfo, set: m.set.union(b.set), ...(m.time ? { time: m.time } : {}) });
    out.delete(id);
    length--;
  }
  return out;
}
