/**
 * PersistentVolumes and PersistentVolumeClaims: SetDefaults_PersistentVolume(Claim),
 * ValidatePersistentVolume(Update) and ValidatePersistentVolumeClaim(Update / StatusUpdate).
 */

import { posix } from 'node:path';
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import { invalidEach, isQualifiedName, nameIsDNSLabel, nameIsDNSSubdomain } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy } from '../../resource.ts';
import { validateImmutable } from './common.ts';
import {
  defaultTo,
  describeDiff,
  ensureObj,
  fe,
  isObj,
  isSet,
  jsonEqual,
  type Obj,
  obj,
  optStr,
  str,
  strList,
  strMap,
} from './json.ts';
import { defaultPVCSpec, supportedVolumeModes, validateAccessModes, validatePVCSpec } from './pvcspec.ts';
import {
  canonicalizeQuantities,
  isNativeResource,
  quantity,
  resourceList,
  validateBasicResource,
  validatePositiveQuantity,
  validateResourceQuantityValue,
} from './resources.ts';
import { validateNodeSelector } from './scheduling.ts';
import { o, shapeErrors } from './shape.ts';
import { pvcSpec, pvcStatus, pvSpec } from './shapes.ts';
import { validateCommonSource, validateCSIDriverName } from './volume-sources.ts';

const spec = new FieldPath('spec');

/** The volume source fields of a PersistentVolume, in Kubernetes' order. */
export const PV_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
] as const;

export function defaultPV(pv: KubeObject): void {
  if (isObj(pv.status)) defaultTo(pv.status, 'phase', 'Pending');
  const s = ensureObj(pv, 'spec');
  if (!s) return;
  defaultTo(s, 'persistentVolumeReclaimPolicy', 'Retain');
  defaultTo(s, 'volumeMode', 'Filesystem');
  canonicalizeQuantities(s.capacity);
}

/** validatePVSecretReference */
function validateSecretRef(ref: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(ref.name);
  const ns = str(ref.namespace);
  if (!name) errs.push(fe.required(path.child('name')));
  else errs.push(...invalidEach(path.child('name'), name, nameIsDNSSubdomain(name, false)));
  if (!ns) errs.push(fe.required(path.child('namespace')));
  else errs.push(...invalidEach(path.child('namespace'), ns, nameIsDNSLabel(ns, false)));
  return errs;
}

const forbiddenName: Record<string, string> = { cephfs: 'cephFS' };
const errorPathName: Record<string, string> = { gcePersistentDisk: 'persistentDisk' };
const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];

/** ValidatePersistentVolumeSpec (not inline) */
function validatePVSpec(pv: KubeObject): FieldError[] {
  const s = obj(pv.spec);
  const errs: FieldError[] = [];
  const modes = strList(s.accessModes);
  if (modes.length === 0) errs.push(fe.required(spec.child('accessModes')));
  errs.push(...validateAccessModes(modes, spec.child('accessModes')));
  const capacity = obj(s.capacity);
  const capPath = spec.child('capacity');
  if (Object.keys(capacity).length === 0) errs.push(fe.required(capPath));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1)
    errs.push(fe.notSupported(capPath, capacity, ['storage']));
  for (const [k, q] of resourceList(capacity)) {
    errs.push(...validateBasicResource(q, capPath.key(k)), ...validatePositiveQuantity(q, capPath.key(k)));
  }
  const policy = str(s.persistentVolumeReclaimPolicy);
  if (policy && !reclaimPolicies.includes(policy))
    errs.push(fe.notSupported(spec.child('persistentVolumeReclaimPolicy'), policy, reclaimPolicies));
  let affinitySet = false;
  if (isObj(s.nodeAffinity)) {
    affinitySet = true;
    const p = spec.child('nodeAffinity');
    if (isObj(s.nodeAffinity.required))
      errs.push(...validateNodeSelector(s.nodeAffinity.required, false, p.child('required')));
    else errs.push(fe.required(p.child('required'), 'must specify required node constraints'));
  }
  let n = 0;
  for (const kind of PV_SOURCES) {
    const src = s[kind];
    if (!isSet(src)) continue;
    if (n > 0 && kind !== 'flexVolume') {
      errs.push(
        fe.forbidden(spec.child(forbiddenName[kind] ?? kind), 'may not specify more than 1 volume type'),
      );
      continue;
    }
    n++;
    const so = obj(src);
    const p = spec.child(errorPathName[kind] ?? kind);
    if (kind === 'local') {
      const lp = str(so.path);
      if (!lp) errs.push(fe.required(p.child('path')));
      else if (lp.replaceAll('\\', '/').split('/').includes('..'))
        errs.push(fe.invalid(p.child('path'), lp, "must not contain '..'"));
      if (!affinitySet)
        errs.push(fe.required(spec.child('nodeAffinity'), 'Local volume requires node affinity'));
    } else if (kind === 'csi') {
      errs.push(...validateCSIDriverName(str(so.driver), p.child('driver')));
      if (!str(so.volumeHandle)) errs.push(fe.required(p.child('volumeHandle')));
      for (const ref of [
        'controllerPublishSecretRef',
        'controllerExpandSecretRef',
        'nodePublishSecretRef',
        'nodeExpandSecretRef',
      ]) {
        if (isObj(so[ref])) errs.push(...validateSecretRef(so[ref] as Obj, p.child(ref)));
      }
    } else {
      errs.push(...(validateCommonSource(kind, so, p) ?? []));
      if (kind === 'glusterfs' && isSet(so.endpointsNamespace)) {
        const ens = str(so.endpointsNamespace);
        if (!ens)
          errs.push(
            fe.invalid(
              p.child('endpointsNamespace'),
              ens,
              'if the endpointnamespace is set, it must be a valid namespace name',
            ),
          );
        else errs.push(...invalidEach(p.child('endpointsNamespace'), ens, nameIsDNSLabel(ens, false)));
      }
    }
  }
  if (n === 0) errs.push(fe.required(spec, 'must specify a volume type'));
  const hostPath = str(obj(s.hostPath).path);
  if (isObj(s.hostPath) && hostPath && posix.normalize(hostPath) === '/' && policy === 'Recycle')
    errs.push(
      fe.forbidden(
        spec.child('persistentVolumeReclaimPolicy'),
        "may not be 'recycle' for a hostPath mount of '/'",
      ),
    );
  const sc = str(s.storageClassName);
  if (sc) errs.push(...invalidEach(spec.child('storageClassName'), sc, nameIsDNSSubdomain(sc, false)));
  const vm = optStr(s.volumeMode);
  if (vm !== undefined && !supportedVolumeModes.includes(vm))
    errs.push(fe.notSupported(spec.child('volumeMode'), vm, supportedVolumeModes));
  const vac = optStr(s.volumeAttributesClassName);
  if (vac !== undefined) {
    if (!vac)
      errs.push(fe.required(spec.child('volumeAttributesClassName'), 'an empty string is disallowed'));
    else
      errs.push(...invalidEach(spec.child('volumeAttributesClassName'), vac, nameIsDNSSubdomain(vac, false)));
    if (!isSet(s.csi))
      errs.push(fe.required(spec.child('csi'), 'has to be specified when using volumeAttributesClassName'));
  }
  return errs;
}

const pvShape = o({ spec: pvSpec });

export function validatePV(pv: KubeObject): FieldError[] {
  const errs = shapeErrors(pv, pvShape, new FieldPath(''));
  return errs.length ? errs : validatePVSpec(pv);
}

/** The PersistentVolumeSource part of a PV spec. */
function pvSource(s: Obj): Obj {
  const out: Obj = {};
  for (const k of PV_SOURCES) if (isSet(s[k])) out[k] = s[k];
  return out;
}

/** ValidatePersistentVolumeUpdate's rules: the source, volumeMode and node affinity are immutable. */
export function validatePVUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  if (shapeErrors(next, pvShape, new FieldPath('')).length) return [];
  const n = obj(next.spec);
  const o2 = obj(old.spec);
  const errs: FieldError[] = [];
  const newSource = structuredClone(pvSource(n));
  const oldSource = pvSource(o2);
  // A controllerExpandSecretRef may be added to a CSI volume.
  if (isObj(oldSource.csi) && !isSet(oldSource.csi.controllerExpandSecretRef) && isObj(newSource.csi))
    delete newSource.csi.controllerExpandSecretRef;
  if (!jsonEqual(newSource, oldSource))
    errs.push(
      fe.forbidden(
        spec.child('persistentvolumesource'),
        `spec.persistentvolumesource is immutable after creation\n${describeDiff(oldSource, newSource, 'spec')}`,
      ),
    );
  errs.push(...validateImmutable(n.volumeMode, o2.volumeMode, new FieldPath('volumeMode')));
  if (isSet(o2.nodeAffinity) && !jsonEqual(n.nodeAffinity, o2.nodeAffinity))
    errs.push(
      fe.invalid(
        new FieldPath('nodeAffinity'),
        n.nodeAffinity ?? null,
        'field is immutable, except for updating from beta label to GA',
      ),
    );
  if (isSet(o2.volumeAttributesClassName) && !isSet(n.volumeAttributesClassName))
    errs.push(
      fe.forbidden(spec.child('volumeAttributesClassName'), 'update from non-nil value to nil is forbidden'),
    );
  return errs;
}

// ---- claims

export function defaultPVC(pvc: KubeObject): void {
  if (isObj(pvc.status)) {
    defaultTo(pvc.status, 'phase', 'Pending');
    canonicalizeQuantities(pvc.status.capacity);
    canonicalizeQuantities(pvc.status.allocatedResources);
  }
  const s = ensureObj(pvc, 'spec');
  if (s) defaultPVCSpec(s);
}

const pvcShape = o({ spec: pvcSpec, status: pvcStatus });

export function validatePVC(pvc: KubeObject): FieldError[] {
  const errs = shapeErrors(pvc, pvcShape, new FieldPath(''));
  return errs.length ? errs : validatePVCSpec(pvc.spec, spec);
}

const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** ValidatePersistentVolumeClaimUpdate's rules (RecoverVolumeExpansionFailure enabled). */
export function validatePVCUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  if (shapeErrors(next, pvcShape, new FieldPath('')).length) return [];
  const n = obj(next.spec);
  const o2 = obj(old.spec);
  const errs: FieldError[] = [];
  const newClone: Obj = structuredClone(n);
  const oldClone: Obj = structuredClone(o2);
  if (!str(o2.volumeName)) setOrDelete(oldClone, 'volumeName', n.volumeName);
  const oldAnn = strMap(old.metadata.annotations);
  const newAnn = strMap(next.metadata.annotations);
  const oldSC = optStr(o2.storageClassName);
  const newSC = optStr(n.storageClassName);
  const upgradeFromAnnotation =
    BETA_STORAGE_CLASS in oldAnn &&
    oldSC === undefined &&
    newSC !== undefined &&
    newSC === oldAnn[BETA_STORAGE_CLASS] &&
    (!(BETA_STORAGE_CLASS in newAnn) || newAnn[BETA_STORAGE_CLASS] === oldAnn[BETA_STORAGE_CLASS]);
  if (upgradeFromAnnotation) {
    delete newClone.storageClassName;
  } else {
    if ((newAnn[BETA_STORAGE_CLASS] ?? '') !== (oldAnn[BETA_STORAGE_CLASS] ?? ''))
      errs.push(
        fe.invalid(
          new FieldPath('metadata').child('annotations').child(BETA_STORAGE_CLASS),
          newAnn[BETA_STORAGE_CLASS] ?? '',
          'field is immutable',
        ),
      );
    if (
      newSC !== undefined &&
      oldSC === undefined &&
      (!(BETA_STORAGE_CLASS in oldAnn) || newSC === oldAnn[BETA_STORAGE_CLASS])
    )
      setOrDelete(newClone, 'storageClassName', oldClone.storageClassName);
  }
  const bound = str(obj(next.status).phase) === 'Bound';
  if (bound && isObj(obj(newClone.resources).requests)) {
    const req = obj(obj(newClone.resources).requests);
    setOrDelete(req, 'storage', obj(obj(o2.resources).requests).storage);
  }
  if (bound && isSet(newClone.volumeAttributesClassName))
    setOrDelete(newClone, 'volumeAttributesClassName', oldClone.volumeAttributesClassName);
  if (!jsonEqual(newClone, oldClone))
    errs.push(
      fe.forbidden(
        spec,
        `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${describeDiff(oldClone, newClone, 'spec')}`,
      ),
    );
  const oldSize = quantity(obj(obj(o2.resources).requests).storage);
  const newSize = quantity(obj(obj(n.resources).requests).storage);
  const statusSize = quantity(obj(obj(old.status).capacity).storage);
  if (newSize && oldSize && newSize.cmp(oldSize) < 0 && (!statusSize || newSize.cmp(statusSize) <= 0))
    errs.push(
      fe.forbidden(
        spec.child('resources').child('requests').child('storage'),
        'field can not be less than status.capacity',
      ),
    );
  errs.push(...validateImmutable(n.volumeMode, o2.volumeMode, new FieldPath('volumeMode')));
  if (
    isSet(o2.volumeAttributesClassName) &&
    !jsonEqual(o2.volumeAttributesClassName, n.volumeAttributesClassName)
  ) {
    if (!isSet(n.volumeAttributesClassName))
      errs.push(
        fe.forbidden(
          spec.child('volumeAttributesClassName'),
          'update from non-nil value to nil is forbidden',
        ),
      );
    else if (n.volumeAttributesClassName === '')
      errs.push(
        fe.forbidden(
          spec.child('volumeAttributesClassName'),
          'update from non-nil value to an empty string is forbidden',
        ),
      );
  }
  return errs;
}

function setOrDelete(o2: Obj, key: string, value: unknown): void {
  if (value === undefined) delete o2[key];
  else o2[key] = value;
}

const resizeStatuses = [
  'ControllerResizeInProgress',
  'ControllerResizeInfeasible',
  'NodeResizeInProgress',
  'NodeResizeInfeasible',
  'NodeResizePending',
];

/** validatePersistentVolumeClaimResourceKey */
function validateClaimResourceKey(value: string, path: FieldPath): FieldError[] {
  const errs = invalidEach(path, value, isQualifiedName(value));
  if (errs.length) return errs;
  if (isNativeResource(value) && value !== 'storage') return [fe.notSupported(path, value, ['storage'])];
  return [];
}

/** ValidatePersistentVolumeClaimStatusUpdate */
export function validatePVCStatus(pvc: KubeObject): FieldError[] {
  const errs = shapeErrors(pvc.status, pvcStatus, new FieldPath('status'));
  if (errs.length) return errs;
  if (strList(obj(pvc.spec).accessModes).length === 0)
    errs.push(fe.required(new FieldPath('Spec').child('accessModes')));
  const status = obj(pvc.status);
  const capPath = new FieldPath('status').child('capacity');
  for (const [k, q] of resourceList(status.capacity)) errs.push(...validateBasicResource(q, capPath.key(k)));
  const rsPath = new FieldPath('status').child('allocatedResourceStatus');
  for (const [k, v] of Object.entries(strMap(status.allocatedResourceStatuses))) {
    const e = validateClaimResourceKey(k, rsPath);
    errs.push(...e);
    if (!resizeStatuses.includes(v)) errs.push(fe.notSupported(rsPath, k, resizeStatuses));
  }
  const allocPath = new FieldPath('status').child('allocatedResources');
  for (const [k, q] of resourceList(status.allocatedResources)) {
    const e = validateClaimResourceKey(k, allocPath);
    if (e.length) {
      errs.push(...e);
      continue;
    }
    const b = validateBasicResource(q, allocPath.key(k));
    errs.push(...(b.length ? b : validateResourceQuantityValue('storage', q, allocPath.key(k))));
  }
  return errs;
}

export function pvStrategy(): Partial<Strategy> {
  return {
    defaults: defaultPV,
    validate: (pv) => validatePV(pv),
    validateUpdate: (n, o2, ctx) => (ctx.subresource === 'status' ? [] : validatePVUpdate(n, o2)),
  };
}

export function pvcStrategy(): Partial<Strategy> {
  return {
    defaults: defaultPVC,
    validate: (pvc, ctx) => (ctx.subresource === 'status' ? validatePVCStatus(pvc) : validatePVC(pvc)),
    validateUpdate: (n, o2, ctx) => (ctx.subresource === 'status' ? [] : validatePVCUpdate(n, o2)),
  };
}
