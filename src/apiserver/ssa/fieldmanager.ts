/**
 * The field manager: server-side apply ({@link applyObject}) and field tracking for ordinary writes
 * ({@link updateManagedFields}), as k8s.io/apimachinery/pkg/util/managedfields and
 * sigs.k8s.io/structured-merge-diff/merge do them. The layers Kubernetes stacks are all here, in order:
 * version check, last-applied annotation upgrade and sync (manager "kubectl" only), "before-first-apply"
 * for objects without managed fields, the cap on update entries ("ancient-changes"), manager
 * identities, timestamps, stripping of metadata fields nobody owns, reset fields, and the merge itself.
 */
import { ApiError, type StatusCause } from '../../api/errors.ts';
import type { KubeObject } from '../object.ts';
import type { Json, JsonObject } from '../patch/json.ts';
import { isObject, jsonEqual } from '../patch/json.ts';
import { createdFieldsV1, type FieldTrie, fieldTrie } from './created.ts';
import { FieldSet, fieldPath, goJson, type Path, pathString } from './fieldpath.ts';
import {
  capUpdateManagers,
  decodeManagedFields,
  encodeEntry,
  encodeManagedFields,
  type Managed,
  type ManagerInfo,
  type ManagerSet,
  managerId,
  printManager,
} from './managed.ts';
import type { SsaSchema } from './schema.ts';
import {
  compare,
  dropNulls,
  ensureNamedFieldsAreMembers,
  excludeFields,
  merge,
  removeItems,
  toFieldSet,
  ValidationErrors,
  validate,
} from './typed.ts';

/** A field path given as field names, e.g. `['status']` or `['metadata', 'labels']`. */
export type FieldNames = readonly string[];

interface CommonOptions {
  /** The group/version of the request (`v1`, `apps/v1`); recorded in the entry. */
  apiVersion: string;
  /** The subresource written through (`status`), if any; part of the manager's identity. */
  subresource?: string;
  schema: SsaSchema;
  /** RFC 3339 time of the request, recorded in the entries this write touches. */
  now: string;
  /**
   * Fields the strategy resets for this endpoint, which nobody owns through it (GetResetFields):
   * `[['status']]` for the main resource of a kind with a status subresource, `[['spec']]` for its
   * status subresource. See {@link resetFieldsFor}. Not to be changed once passed: what is made of
   * it is kept by list.
   */
  resetFields?: readonly FieldNames[];
}

export interface ApplyOptions extends CommonOptions {
  /** The fieldManager query parameter (required for apply). */
  manager: string;
  /** The force query parameter: take conflicting fields from their managers. */
  force: boolean;
  /** The kind being applied; defaults to the live object's, else the applied configuration's. */
  kind?: string;
}

export interface UpdateOptions extends CommonOptions {
  /** The fieldManager query parameter, or the name derived from the User-Agent ({@link managerFromUserAgent}). */
  manager: string;
  operation: 'Update';
}

/** Fields that are never owned by anyone (stripMetaManager): the paths themselves, not what is below them. */
const STRIPPED: readonly FieldNames[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata'],
  ['metadata', 'name'],
  ['metadata', 'namespace'],
  ['metadata', 'creationTimestamp'],
  ['metadata', 'selfLink'],
  ['metadata', 'uid'],
  ['metadata', 'clusterName'],
  ['metadata', 'generation'],
  ['metadata', 'managedFields'],
  ['metadata', 'resourceVersion'],
];
const STRIP_SET = FieldSet.of(...STRIPPED.map((f) => fieldPath(...f)));
const STRIP_TRIE = fieldTrie(STRIPPED);

/** The annotation client-side `kubectl apply` keeps its last configuration in. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

const BEFORE_FIRST_APPLY = 'before-first-apply';
/** The temporary identity of the running update (managedFieldsUpdater's "current-operation"). */
const CURRENT_OPERATION = '\u0000current-operation';

/**
 * The reset fields Kubernetes' strategies declare, for the common cases: the main resource of a kind
 * with a status subresource resets `status`; the `status` subresource resets `spec`.
 */
export function resetFieldsFor(opts: {
  subresource?: string;
  hasStatusSubresource: boolean;
}): readonly FieldNames[] {
  if (opts.subresource === 'status') return RESET_SPEC;
  if (!opts.subresource && opts.hasStatusSubresource) return RESET_STATUS;
  return RESET_NONE;
}

// Shared (frozen) so that the sets and tries made of them are made once.
const RESET_SPEC: readonly FieldNames[] = Object.freeze([Object.freeze(['spec'])]);
const RESET_STATUS: readonly FieldNames[] = Object.freeze([Object.freeze(['status'])]);
const RESET_NONE: readonly FieldNames[] = Object.freeze([]);

/** The sets and tries of reset-field lists seen before (by list). */
const resetSets = new WeakMap<readonly FieldNames[], FieldSet>();
const resetTries = new WeakMap<readonly FieldNames[], FieldTrie>();

function resetSet(fields: readonly FieldNames[] | undefined): FieldSet | undefined {
  if (!fields || fields.length === 0) return undefined;
  let set = resetSets.get(fields);
  if (!set) {
    set = FieldSet.of(...fields.map((f) => fieldPath(...f)));
    resetSets.set(fields, set);
  }
  return set;
}

function resetTrie(fields: readonly FieldNames[] | undefined): FieldTrie | undefined {
  if (!fields || fields.length === 0) return undefined;
  let trie = resetTries.get(fields);
  if (!trie) {
    trie = fieldTrie(fields);
    resetTries.set(fields, trie);
  }
  return trie;
}

/** The object as JSON without metadata.managedFields (a copy). */
function withoutManagedFields(obj: object): JsonObject {
  const copy = JSON.parse(JSON.stringify(obj)) as JsonObject;
  if (isObject(copy.metadata)) delete copy.metadata.managedFields;
  return copy;
}

/**
 * The object without metadata.managedFields, sharing everything else with `obj` (for reading only:
 * compare() never changes its inputs). Values that are `undefined` stay, and read as absent.
 */
function withoutManagedFieldsShared(obj: object): JsonObject {
  const o = obj as JsonObject;
  if (!isObject(o.metadata) || !Object.hasOwn(o.metadata, 'managedFields')) return o;
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata };
}

function metadataOf(obj: JsonObject): JsonObject | undefined {
  return isObject(obj.metadata) ? obj.metadata : undefined;
}

// ---------------------------------------------------------------------------------------------
// Conflicts

interface Conflict {
  readonly manager: string;
  readonly path: Path;
}

/** merge.Conflicts, before it becomes a Status. */
class Conflicts extends Error {
  override name = 'Conflicts';
  readonly conflicts: readonly Conflict[];
  constructor(conflicts: readonly Conflict[]) {
    super('conflicts');
    this.conflicts = conflicts;
  }
}

function conflictsFromManagers(sets: Map<string, FieldSet>): Conflicts {
  const ids = [...sets.keys()].sort();
  const out: Conflict[] = [];
  for (const id of ids)
    for (const path of (sets.get(id) as FieldSet).paths()) out.push({ manager: id, path });
  return new Conflicts(out);
}

/** 409 Conflict with one FieldManagerConflict cause per field, worded as Kubernetes words it. */
function conflictStatus(c: Conflicts): ApiError {
  const causes: StatusCause[] = c.conflicts.map((x) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(x.manager)}`,
    field: pathString(x.path),
  }));
  let message: string;
  const [only] = c.conflicts;
  if (c.conflicts.length === 1 && only) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(only.manager)}: ${pathString(only.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const x of c.conflicts) {
      const list = byManager.get(x.manager) ?? [];
      list.push(pathString(x.path));
      byManager.set(x.manager, list);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(id)}:`);
      for (const p of byManager.get(id) ?? []) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${c.conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

// ---------------------------------------------------------------------------------------------
// The updater (sigs.k8s.io/structured-merge-diff/merge/update.go)

interface Ctx {
  readonly schema: SsaSchema;
  readonly ignored: FieldSet | undefined;
  readonly now: string;
}

/**
 * Takes from every other manager the fields this write modified or added (conflicts, unless forced)
 * and the fields it removed. Throws {@link Conflicts}.
 */
function takeOwnership(
  ctx: Ctx,
  oldObj: JsonObject,
  newObj: JsonObject,
  managed: Managed,
  workflow: string,
  force: boolean,
) {
  const cmp = excludeFields(compare(oldObj, newObj, ctx.schema), ctx.ignored);
  const changed = cmp.modified.union(cmp.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, m] of managed) {
    if (id === workflow) continue;
    const c = m.set.intersection(changed);
    if (!c.empty()) conflicts.set(id, c);
  }
  if (!force && conflicts.size > 0) throw conflictsFromManagers(conflicts);
  const out: Managed = new Map();
  for (const [id, m] of managed) {
    let set = m.set;
    if (id !== workflow) {
      const c = conflicts.get(id);
      if (c) set = set.difference(c);
      set = set.difference(cmp.removed);
    }
    if (!set.empty() || id === workflow) out.set(id, { ...m, set });
  }
  return { managed: out, cmp };
}

/**
 * An ordinary write by `info` (Update, with managedFieldsUpdater and stripMetaManager around it): the
 * fields it changed or added become its own, merged into its previous entry, stamped with the time.
 */
function updateCore(
  ctx: Ctx,
  oldObj: JsonObject,
  newObj: JsonObject,
  managed: Managed,
  info: ManagerInfo,
): Managed {
  const { managed: out, cmp } = takeOwnership(ctx, oldObj, newObj, managed, CURRENT_OPERATION, true);
  out.delete(CURRENT_OPERATION);
  let set = cmp.modified.union(cmp.added).difference(cmp.removed);
  if (ctx.ignored) set = set.recursiveDifference(ctx.ignored);
  set = set.difference(STRIP_SET);
  if (set.empty()) return out;
  const id = managerId(info);
  const previous = out.get(id);
  out.set(id, { ...info, set: previous ? set.union(previous.set) : set, time: ctx.now });
  return out;
}

/**
 * prune: removes from `merged` the fields the applier owned last time, no longer applies, and no
 * manager owns now (named struct fields go when nothing below them is owned).
 */
function prune(ctx: Ctx, merged: JsonObject, managed: Managed, lastSet: FieldSet | undefined): JsonObject {
  if (!lastSet || lastSet.empty()) return merged;
  const s = ctx.schema;
  const ensure = (set: FieldSet) => ensureNamedFieldsAreMembers(set, s);
  const last = ensure(lastSet);
  const pruned = (removeItems(merged, last, s) ?? {}) as JsonObject;
  // addBackOwnedItems
  let owned = new FieldSet();
  for (const m of managed.values()) owned = owned.union(m.set);
  const mergedSet = ensure(toFieldSet(merged, s));
  const prunedSet = ensure(toFieldSet(pruned, s));
  const keep = prunedSet.union(ensure(owned));
  const ownedBack = (removeItems(merged, mergedSet.difference(keep), s) ?? {}) as JsonObject;
  // addBackDanglingItems
  const backSet = ensure(toFieldSet(ownedBack, s));
  return (removeItems(merged, mergedSet.difference(backSet).intersection(last), s) ?? {}) as JsonObject;
}

interface ApplyResult {
  readonly object: JsonObject;
  readonly managed: Managed;
}

/** One apply attempt (everything below the last-applied layers). Throws {@link Conflicts}. */
function applyCore(
  ctx: Ctx,
  live: JsonObject,
  applied: JsonObject,
  managedIn: Managed,
  opts: ApplyOptions,
  force: boolean,
): ApplyResult {
  let managed: Managed = new Map(managedIn);
  // skipNonAppliedManager: an object without managed fields gets them for what it holds first.
  if (managed.size === 0) {
    managed = updateCore(ctx, {}, live, managed, {
      manager: BEFORE_FIRST_APPLY,
      operation: 'Update',
      apiVersion: opts.apiVersion,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    });
  }
  const info: ManagerInfo = {
    manager: opts.manager || 'unknown',
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  const id = managerId(info);
  let merged = (merge(live, applied, ctx.schema) ?? {}) as JsonObject;
  const last = managed.get(id);
  let set = toFieldSet(applied, ctx.schema);
  if (ctx.ignored) set = set.recursiveDifference(ctx.ignored);
  managed.set(id, { ...info, set, ...(last?.time ? { time: last.time } : {}) });
  merged = prune(ctx, merged, managed, last?.set);
  managed = takeOwnership(ctx, live, merged, managed, id, force).managed;
  // stripMetaManager
  const mine = managed.get(id) as ManagerSet;
  const stripped = mine.set.difference(STRIP_SET);
  if (stripped.empty()) managed.delete(id);
  else managed.set(id, { ...mine, set: stripped });
  const result = dropNulls(merged) as JsonObject;
  if (jsonEqual(live, result)) return { object: live, managed };
  const entry = managed.get(id);
  if (entry) managed.set(id, { ...entry, time: ctx.now });
  return { object: result, managed };
}

// ---------------------------------------------------------------------------------------------
// Last-applied annotation (lastAppliedManager / lastAppliedUpdater): only for manager "kubectl".

function lastAppliedOf(obj: JsonObject): string | undefined {
  const ann = metadataOf(obj)?.annotations;
  if (!isObject(ann)) return undefined;
  const v = ann[LAST_APPLIED_ANNOTATION];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Fields client-side apply set and the live object still has as it set them: conflicts on them are allowed. */
function allowedFromLastApplied(ctx: Ctx, live: JsonObject, apiVersion: string): FieldSet | undefined {
  const text = lastAppliedOf(live);
  if (text === undefined) return undefined;
  let last: Json;
  try {
    last = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  if (!isObject(last) || last.apiVersion !== apiVersion) return undefined;
  const cmp = compare(last, live, ctx.schema);
  return toFieldSet(last, ctx.schema).difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
}

/** The annotation's new value: the applied configuration without the annotation, as Go encodes it. */
function buildLastApplied(applied: JsonObject): string {
  const copy = JSON.parse(JSON.stringify(applied)) as JsonObject;
  const ann = metadataOf(copy)?.annotations;
  if (isObject(ann)) delete ann[LAST_APPLIED_ANNOTATION];
  return `${goJson(copy)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Entry points

function gvkString(obj: JsonObject): string {
  const av = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const parts = av.split('/');
  if (av === '' || parts.length > 2) return `/, Kind=${parts.length > 2 ? '' : kind}`;
  const [group, version] = parts.length === 1 ? ['', parts[0]] : parts;
  return `${group}/${version}, Kind=${kind}`;
}

function objectGVKNN(obj: JsonObject): string {
  const md = metadataOf(obj);
  const ns = typeof md?.namespace === 'string' ? md.namespace : '';
  const name = typeof md?.name === 'string' ? md.name : '';
  return `${ns}/${name}; ${gvkString(obj)}`;
}

/**
 * Server-side apply: merges the applied configuration `applied` into `live` (or creates the object
 * from it when `live` is null) for `opts.manager`, and returns the new object with its
 * `metadata.managedFields`. `live` is not modified.
 *
 * - Every field set in `applied` becomes owned by the manager's Apply entry (reset fields excepted).
 * - Fields the manager applied last time and leaves out now are removed, unless another manager owns
 *   them (then only the ownership goes).
 * - A field owned by another manager whose value would change is a conflict: 409 naming each one,
 *   unless `force`, which moves the field to this manager. Applying the same value shares ownership.
 * - A live object without managed fields first gets a "before-first-apply" Update entry for all it holds.
 * - For manager "kubectl", fields recorded in the last-applied-configuration annotation (client-side
 *   apply) that still hold those values do not conflict, and the annotation is kept in sync.
 *
 * Throws ApiError: 400 for an applied object of another kind or version, or with managedFields; 409
 * for conflicts; 500 for an applied configuration with duplicate list items (as Kubernetes does).
 * System fields in the result (uid, resourceVersion, generation, reset fields such as status) are the
 * registry's to fix, as Kubernetes' strategies do after the field manager.
 */
export function applyObject(live: KubeObject | null, applied: object, opts: ApplyOptions): KubeObject {
  if (!isObject(applied as Json))
    throw ApiError.badRequest('error decoding YAML: the applied configuration must be an object');
  const config = JSON.parse(JSON.stringify(applied)) as JsonObject;
  const kind = opts.kind ?? (typeof live?.kind === 'string' ? live.kind : undefined) ?? config.kind;
  if (config.apiVersion !== opts.apiVersion || config.kind !== kind) {
    throw ApiError.badRequest(`invalid object type: ${gvkString(config)}`);
  }
  if (Array.isArray(metadataOf(config)?.managedFields)) {
    throw ApiError.badRequest('metadata.managedFields must be nil');
  }
  try {
    validate(config, opts.schema);
  } catch (err) {
    if (err instanceof ValidationErrors) {
      throw new ApiError(
        500,
        'InternalError',
        `failed to create typed patch object (${objectGVKNN(config)}): ${err.message}`,
      );
    }
    throw err;
  }
  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch (err) {
    throw ApiError.internal(`failed to decode managed fields: ${(err as Error).message}`, err);
  }
  const liveObj = live ? withoutManagedFields(live) : {};
  const ctx: Ctx = { schema: opts.schema, ignored: resetSet(opts.resetFields), now: opts.now };

  let result: ApplyResult;
  try {
    result = applyCore(ctx, liveObj, config, managed, opts, opts.force);
  } catch (err) {
    if (!(err instanceof Conflicts)) throw err;
    const allowed =
      opts.manager === 'kubectl' && live ? allowedFromLastApplied(ctx, liveObj, opts.apiVersion) : undefined;
    if (!allowed) throw conflictStatus(err);
    const remaining = err.conflicts.filter((c) => !allowed.has(c.path));
    if (remaining.length > 0) throw conflictStatus(new Conflicts(remaining));
    result = applyCore(ctx, liveObj, config, managed, opts, true);
  }

  const out = (result.object === liveObj ? JSON.parse(JSON.stringify(liveObj)) : result.object) as JsonObject;
  const md: JsonObject = isObject(out.metadata) ? out.metadata : {};
  out.metadata = md;
  if (opts.manager === 'kubectl' && lastAppliedOf(out) !== undefined) {
    (md.annotations as JsonObject)[LAST_APPLIED_ANNOTATION] = buildLastApplied(config);
  }
  const encoded = encodeManagedFields(result.managed);
  if (encoded) md.managedFields = encoded as unknown as Json;
  else delete md.managedFields;
  return out as unknown as KubeObject;
}

/** isResetManagedFields: `[]`, or one empty entry, asks for the managed fields to be cleared. */
function isReset(mf: unknown): boolean {
  if (!Array.isArray(mf)) return false;
  if (mf.length === 0) return true;
  return mf.length === 1 && isObject(mf[0] as Json) && Object.keys(mf[0] as object).length === 0;
}

function decodeOrEmpty(mf: unknown): Managed {
  try {
    return decodeManagedFields(mf);
  } catch {
    return new Map();
  }
}

/**
 * Records a non-apply write (create, update, patch) in `newObj.metadata.managedFields` (modified in
 * place): fields this write added or changed become owned by the manager's Update entry (merged into
 * its previous one, stamped `now`) and leave every other manager; removed fields leave everyone;
 * entries left empty go; more than ten Update entries are merged into "ancient-changes".
 *
 * As Kubernetes: managed fields sent in `newObj` replace the stored ones when they decode (not through
 * a subresource); `[]` or `[{}]` clears them; an existing object (with a uid) that has none is not
 * tracked until its first apply; `oldObj` null is a create. On an internal error the stored managed
 * fields are kept.
 *
 * A create with no managed fields to keep (the usual one) takes a shortcut ({@link createdFieldsV1})
 * whose result is the same, to the byte, as {@link updateManagedFieldsGeneral}'s.
 */
export function updateManagedFields(
  oldObj: KubeObject | null,
  newObj: KubeObject,
  opts: UpdateOptions,
): void {
  updateFields(oldObj, newObj, opts, true);
}

/**
 * {@link updateManagedFields} without the create shortcut: every write compares the old object (`{}`
 * for a create) with the new one. The reference the shortcut is tested and measured against.
 */
export function updateManagedFieldsGeneral(
  oldObj: KubeObject | null,
  newObj: KubeObject,
  opts: UpdateOptions,
): void {
  updateFields(oldObj, newObj, opts, false);
}

/**
 * The create shortcut: `newObj.metadata.managedFields` set to the one Update entry a create records
 * (or left out when the create sets no field anyone owns). False when it does not apply to `newObj`
 * (the caller then takes the general path); nothing has changed then.
 */
function recordCreate(newObj: KubeObject, opts: UpdateOptions): boolean {
  const fields = createdFieldsV1(
    newObj as unknown as JsonObject,
    opts.schema,
    resetTrie(opts.resetFields),
    STRIP_TRIE,
  );
  if (fields === undefined) return false;
  if (Object.keys(fields).length === 0) return true;
  const info: ManagerInfo = {
    manager: opts.manager || 'unknown',
    operation: 'Update',
    apiVersion: opts.apiVersion,
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  newObj.metadata.managedFields = [encodeEntry(info, opts.now, fields)];
  return true;
}

/** updateManagedFields, with the create shortcut when `shortcut`. */
function updateFields(oldObj: KubeObject | null, newObj: KubeObject, opts: UpdateOptions, shortcut: boolean) {
  const sent = newObj.metadata?.managedFields;
  const stored = oldObj?.metadata?.managedFields;
  try {
    let managed: Managed;
    if (opts.subresource) managed = decodeOrEmpty(stored);
    else if (isReset(sent)) managed = new Map();
    else {
      managed = decodeOrEmpty(sent);
      if (managed.size === 0) managed = decodeOrEmpty(stored);
    }
    newObj.metadata ??= {};
    delete newObj.metadata.managedFields;
    if (managed.size === 0 && oldObj?.metadata?.uid) return;
    if (shortcut && !oldObj && managed.size === 0 && recordCreate(newObj, opts)) return;
    const ctx: Ctx = { schema: opts.schema, ignored: resetSet(opts.resetFields), now: opts.now };
    const info: ManagerInfo = {
      manager: opts.manager || 'unknown',
      operation: 'Update',
      apiVersion: opts.apiVersion,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    };
    const before = oldObj ? withoutManagedFieldsShared(oldObj) : {};
    managed = capUpdateManagers(updateCore(ctx, before, withoutManagedFieldsShared(newObj), managed, info));
    const encoded = encodeManagedFields(managed);
    if (encoded) newObj.metadata.managedFields = encoded;
  } catch {
    newObj.metadata ??= {};
    if (stored) newObj.metadata.managedFields = stored;
    else delete newObj.metadata.managedFields;
  }
}
