/** PersistentVolumeClaimSpec: defaults and ValidatePersistentVolumeClaimSpec (claims and claim templates). */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import {
  invalidEach,
  isDNS1123Subdomain,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
} from '../../../api/validation.ts';
import { validateSelector } from './common.ts';
import { defaultTo, fe, isObj, isSet, jsonEqual, type Obj, obj, optStr, str, strList } from './json.ts';
import {
  canonicalizeQuantities,
  quantity,
  validatePositiveQuantity,
  validateResourceQuantityValue,
} from './resources.ts';

/** SetDefaults_PersistentVolumeClaimSpec: volumeMode Filesystem; quantities canonical. */
export function defaultPVCSpec(spec: unknown): void {
  if (!isObj(spec)) return;
  defaultTo(spec, 'volumeMode', 'Filesystem');
  if (!isSet(spec.resources)) spec.resources = {};
  if (isObj(spec.resources)) {
    canonicalizeQuantities(spec.resources.requests, true);
    canonicalizeQuantities(spec.resources.limits, true);
  }
}

export const supportedAccessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const supportedVolumeModes = ['Block', 'Filesystem'];

/** The access-mode checks shared by PVs and PVCs (after the "required" check). */
export function validateAccessModes(modes: string[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const mode of modes) {
    if (!supportedAccessModes.includes(mode)) errs.push(fe.notSupported(path, mode, supportedAccessModes));
    if (mode === 'ReadWriteOncePod') rwop = true;
    else if (supportedAccessModes.includes(mode)) other = true;
  }
  if (rwop && other) errs.push(fe.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** validateDataSource / validateDataSourceRef */
function validateDataSource(ds: Obj, path: FieldPath, isRef: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const kind = str(ds.kind);
  const apiGroup = str(ds.apiGroup);
  if (!str(ds.name)) errs.push(fe.required(path.child('name')));
  if (!kind) errs.push(fe.required(path.child('kind')));
  if (!apiGroup && kind !== 'PersistentVolumeClaim')
    errs.push(
      fe.invalid(path, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"),
    );
  if (apiGroup) errs.push(...invalidEach(path.child('apiGroup'), apiGroup, isDNS1123Subdomain(apiGroup)));
  const ns = str(ds.namespace);
  if (isRef && ns) errs.push(...invalidEach(path.child('namespace'), ns, nameIsDNSLabel(ns, false)));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec */
export function validatePVCSpec(spec: unknown, path: FieldPath): FieldError[] {
  const s = obj(spec);
  const errs: FieldError[] = [];
  const modes = strList(s.accessModes);
  if (modes.length === 0)
    errs.push(fe.required(path.child('accessModes'), 'at least 1 access mode is required'));
  if (isObj(s.selector)) errs.push(...validateSelector(s.selector, path.child('selector')));
  errs.push(...validateAccessModes(modes, path.child('accessModes')));
  const storagePath = path.child('resources').key('storage');
  const requests = obj(obj(s.resources).requests);
  const storage = quantity(requests.storage);
  if (!storage) errs.push(fe.required(storagePath));
  else {
    const pos = validatePositiveQuantity(storage, storagePath);
    errs.push(...(pos.length ? pos : validateResourceQuantityValue('storage', storage, storagePath)));
  }
  const sc = str(s.storageClassName);
  if (sc) errs.push(...invalidEach(path.child('storageClassName'), sc, nameIsDNSSubdomain(sc, false)));
  const vm = optStr(s.volumeMode);
  if (vm !== undefined && !supportedVolumeModes.includes(vm))
    errs.push(fe.notSupported(path.child('volumeMode'), vm, supportedVolumeModes));
  const ds = isObj(s.dataSource) ? s.dataSource : undefined;
  const dsr = isObj(s.dataSourceRef) ? s.dataSourceRef : undefined;
  if (ds) errs.push(...validateDataSource(ds, path.child('dataSource'), false));
  if (dsr) errs.push(...validateDataSource(dsr, path.child('dataSourceRef'), true));
  if (dsr && str(dsr.namespace)) {
    if (ds)
      errs.push(
        fe.invalid(
          path,
          path.child('dataSource').toString(),
          'may not be specified when dataSourceRef.namespace is specified',
        ),
      );
  } else if (ds && dsr) {
    const same =
      jsonEqual(optStr(ds.apiGroup), optStr(dsr.apiGroup)) &&
      str(ds.kind) === str(dsr.kind) &&
      str(ds.name) === str(dsr.name);
    if (!same) errs.push(fe.invalid(path, path.child('dataSource').toString(), 'must match dataSourceRef'));
  }
  const vac = str(s.volumeAttributesClassName);
  if (vac)
    errs.push(...invalidEach(path.child('volumeAttributesClassName'), vac, nameIsDNSSubdomain(vac, false)));
  return errs;
}
