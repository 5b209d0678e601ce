/**
 * Pod volumes: defaulting (SetDefaults_Volume and the per-source defaults) and ValidateVolumes /
 * validateVolumeSource, after pkg/apis/core/v1/defaults.go and pkg/apis/core/validation.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { invalidEach, nameIsDNSSubdomain } from '../../../api/validation.ts';
import {
  validateDNS1123Label,
  validateFileMode,
  validateLocalDescendingPath,
  validateLocalNonReservedPath,
  validateSelector,
} from './common.ts';
import { defaultFieldRef, validatePullPolicy } from './container.ts';
import { validateObjectFieldSelector, validateResourceFieldSelector, validVolumeFieldPaths } from './env.ts';
import { defaultPullPolicy } from './image.ts';
import { fe, isObj, isSet, num, type Obj, obj, objItems, optStr, str } from './json.ts';
import { defaultPVCSpec, validatePVCSpec } from './pvcspec.ts';
import { canonicalizeQuantityField, quantity } from './resources.ts';
import { validateCommonSource, validateCSIDriverName } from './volume-sources.ts';

/** The volume source fields of a pod volume, in Kubernetes' order. */
export const VOLUME_SOURCES = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
] as const;

/** The default file mode of secret, configMap, downwardAPI and projected volumes (0644). */
export const DEFAULT_MODE = 0o644;

function defaultItemsFieldRefs(items: unknown): void {
  for (const [item] of objItems(items)) defaultFieldRef(item.fieldRef);
}

/** SetDefaults_Volume and the defaults of its source. */
export function defaultVolume(v: unknown): void {
  if (!isObj(v)) return;
  if (!VOLUME_SOURCES.some((k) => isSet(v[k]))) v.emptyDir = {};
  if (isObj(v.emptyDir)) canonicalizeQuantityField(v.emptyDir, 'sizeLimit');
  if (isObj(v.hostPath) && !isSet(v.hostPath.type)) v.hostPath.type = '';
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const src = v[k];
    if (isObj(src) && !isSet(src.defaultMode)) src.defaultMode = DEFAULT_MODE;
  }
  if (isObj(v.downwardAPI)) defaultItemsFieldRefs(v.downwardAPI.items);
  if (isObj(v.projected)) {
    for (const [src] of objItems(v.projected.sources)) {
      if (isObj(src.downwardAPI)) defaultItemsFieldRefs(src.downwardAPI.items);
      if (isObj(src.serviceAccountToken) && !isSet(src.serviceAccountToken.expirationSeconds))
        src.serviceAccountToken.expirationSeconds = 3600;
    }
  }
  if (isObj(v.image) && !str(v.image.pullPolicy))
    v.image.pullPolicy = defaultPullPolicy(str(v.image.reference));
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate))
    defaultPVCSpec(v.ephemeral.volumeClaimTemplate.spec);
}

/** validateKeyToPath */
function validateKeyToPath(kp: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const p = str(kp.path);
  if (!str(kp.key)) errs.push(fe.required(path.child('key')));
  if (!p) errs.push(fe.required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(p, path.child('path')));
  errs.push(...validateFileMode(num(kp.mode), path.child('mode')));
  return errs;
}

/** validateDownwardAPIVolumeFile (errors are reported under `path`, the source, as Kubernetes does). */
function validateDownwardAPIVolumeFile(file: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const p = str(file.path);
  if (!p) errs.push(fe.required(path.child('path')));
  errs.push(...validateLocalNonReservedPath(p, path.child('path')));
  if (isObj(file.fieldRef)) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, validVolumeFieldPaths, path.child('fieldRef')));
    if (isObj(file.resourceFieldRef))
      errs.push(
        fe.invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'),
      );
  } else if (isObj(file.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, path.child('resourceFieldRef'), true));
  } else {
    errs.push(fe.required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(num(file.mode), path.child('mode')));
  return errs;
}

/** validateProjectionSources */
function validateProjected(proj: Obj, path: FieldPath, allowNonLocalTokenPath: boolean): FieldError[] {
  const errs = validateFileMode(num(proj.defaultMode), path.child('defaultMode'));
  const allPaths = new Set<string>();
  const addPath = (p: string, value: unknown) => {
    if (allPaths.has(p)) errs.push(fe.invalid(path, value, 'conflicting duplicate paths'));
    else allPaths.add(p);
  };
  for (const [src, i] of objItems(proj.sources)) {
    let n = 0;
    const sp = path.child('sources').index(i);
    for (const kind of ['secret', 'configMap'] as const) {
      const s = src[kind];
      if (!isObj(s)) continue;
      n++;
      const pp = sp.child(kind);
      if (!str(s.name)) errs.push(fe.required(pp.child('name')));
      for (const [kp, j] of objItems(s.items)) {
        errs.push(...validateKeyToPath(kp, pp.child('items').index(j)));
        if (str(kp.path)) addPath(str(kp.path), str(s.name));
      }
    }
    if (isObj(src.downwardAPI)) {
      n++;
      for (const [file] of objItems(src.downwardAPI.items)) {
        errs.push(...validateDownwardAPIVolumeFile(file, sp.child('downwardAPI')));
        if (str(file.path)) addPath(str(file.path), str(file.path));
      }
    }
    if (isObj(src.serviceAccountToken)) {
      n++;
      const t = src.serviceAccountToken;
      const pp = sp.child('serviceAccountToken');
      const exp = num(t.expirationSeconds) ?? 0;
      if (exp < 600)
        errs.push(
          fe.invalid(pp.child('expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'),
        );
      if (exp > 2 ** 32)
        errs.push(
          fe.invalid(
            pp.child('expirationSeconds'),
            exp,
            'may not specify a duration larger than 2^32 seconds',
          ),
        );
      const tp = str(t.path);
      if (!tp) errs.push(fe.required(path.child('path')));
      else if (!allowNonLocalTokenPath) errs.push(...validateLocalNonReservedPath(tp, path.child('path')));
    }
    if (isObj(src.clusterTrustBundle)) {
      n++;
      const ctb = src.clusterTrustBundle;
      const pp = sp.child('clusterTrustBundle');
      const name = optStr(ctb.name);
      const signer = optStr(ctb.signerName);
      if (name !== undefined && signer !== undefined)
        errs.push(fe.invalid(pp, ctb, 'only one of name and signerName may be used'));
      else if (name !== undefined) {
        if (name === '') errs.push(fe.required(pp.child('name'), 'must be a valid object name'));
        if (isSet(ctb.labelSelector))
          errs.push(
            fe.invalid(
              pp.child('labelSelector'),
              ctb.labelSelector,
              'labelSelector must be unset if name is specified',
            ),
          );
      } else if (signer !== undefined) {
        if (signer === '') errs.push(fe.required(pp.child('signerName'), 'must be a valid signer name'));
        errs.push(...validateSelector(ctb.labelSelector, pp.child('labelSelector')));
      } else {
        errs.push(fe.required(pp, 'either name or signerName must be specified'));
      }
      const cp = str(ctb.path);
      if (!cp) errs.push(fe.required(pp.child('path')));
      errs.push(...validateLocalNonReservedPath(cp, pp.child('path')));
      addPath(cp, cp);
    }
    if (isSet(src.podCertificate)) n++;
    if (n > 1) errs.push(fe.forbidden(sp, 'may not specify more than 1 volume type per source'));
  }
  return errs;
}

/** Where Kubernetes reports a source's "more than 1 volume type" and its own errors, when not its field name. */
const forbiddenName: Record<string, string> = { cephfs: 'cephFS', downwardAPI: 'downwarAPI' };
const errorPathName: Record<string, string> = { gcePersistentDisk: 'persistentDisk' };

/** Options of pod-spec validation that depend on where the spec is. */
export interface VolumeContext {
  /** The pod's name, for generic ephemeral volumes (only for a Pod itself). */
  podName?: string;
  /** The spec is a Pod's (not a template's). */
  resourceIsPod: boolean;
}

/** validateVolumeSource */
function validateVolumeSource(v: Obj, path: FieldPath, volName: string, ctx: VolumeContext): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of VOLUME_SOURCES) {
    const src = v[kind];
    if (!isSet(src)) continue;
    if (n > 0) {
      errs.push(
        fe.forbidden(path.child(forbiddenName[kind] ?? kind), 'may not specify more than 1 volume type'),
      );
      continue;
    }
    n++;
    const s = obj(src);
    const p = path.child(errorPathName[kind] ?? kind);
    const common = validateCommonSource(kind, s, p);
    if (common) {
      errs.push(...common);
      continue;
    }
    switch (kind) {
      case 'emptyDir': {
        const q = quantity(s.sizeLimit);
        if (q && q.sign() < 0)
          errs.push(fe.forbidden(p.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
        break;
      }
      case 'gitRepo':
        if (!str(s.repository)) errs.push(fe.required(p.child('repository')));
        errs.push(...validateLocalDescendingPath(str(s.directory), p.child('directory')));
        break;
      case 'secret':
      case 'configMap':
        if (!str(s[kind === 'secret' ? 'secretName' : 'name']))
          errs.push(fe.required(p.child(kind === 'secret' ? 'secretName' : 'name')));
        errs.push(...validateFileMode(num(s.defaultMode), p.child('defaultMode')));
        for (const [kp, i] of objItems(s.items))
          errs.push(...validateKeyToPath(kp, p.child('items').index(i)));
        break;
      case 'persistentVolumeClaim':
        if (!str(s.claimName)) errs.push(fe.required(p.child('claimName')));
        break;
      case 'downwardAPI':
        errs.push(...validateFileMode(num(s.defaultMode), p.child('defaultMode')));
        for (const [file] of objItems(s.items)) errs.push(...validateDownwardAPIVolumeFile(file, p));
        break;
      case 'projected':
        errs.push(...validateProjected(s, p, false));
        break;
      case 'csi': {
        errs.push(...validateCSIDriverName(str(s.driver), p.child('driver')));
        const ref = s.nodePublishSecretRef;
        if (isObj(ref)) {
          const name = str(ref.name);
          if (!name) errs.push(fe.required(p.child('nodePublishSecretRef').child('name')));
          else errs.push(...invalidEach(p.child('name'), name, nameIsDNSSubdomain(name, false)));
        }
        break;
      }
      case 'ephemeral': {
        const tmpl = s.volumeClaimTemplate;
        if (!isObj(tmpl)) {
          errs.push(fe.required(p.child('volumeClaimTemplate')));
          break;
        }
        const tp = p.child('volumeClaimTemplate');
        errs.push(...validateTemplateObjectMeta(tmpl.metadata, tp.child('metadata')));
        errs.push(...validatePVCSpec(tmpl.spec, tp.child('spec')));
        if (ctx.podName && volName) {
          const pvcName = `${ctx.podName}-${volName}`;
          for (const msg of nameIsDNSSubdomain(pvcName, false))
            errs.push(fe.invalid(path.child('name'), volName, `PVC name "${pvcName}": ${msg}`));
        }
        break;
      }
      case 'image':
        if (ctx.resourceIsPod && !str(s.reference)) errs.push(fe.required(p.child('reference')));
        errs.push(...validatePullPolicy(str(s.pullPolicy), p.child('pullPolicy')));
        break;
    }
  }
  if (n === 0) errs.push(fe.required(path, 'must specify a volume type'));
  return errs;
}

/** ValidateTemplateObjectMeta: only labels and annotations may be set. */
function validateTemplateObjectMeta(meta: unknown, path: FieldPath): FieldError[] {
  const m = obj(meta);
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (k === 'labels' || k === 'annotations' || !isSet(v)) continue;
    errs.push(fe.forbidden(path.child(k), 'cannot be set'));
  }
  return errs;
}

/**
 * ValidateVolumes: each volume's source, a DNS-label name, names unique. Returns the valid volumes
 * by name (what volumeMounts may reference) with the errors.
 */
export function validateVolumes(
  volumes: unknown,
  path: FieldPath,
  ctx: VolumeContext,
): { volumes: Map<string, Obj>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const valid = new Map<string, Obj>();
  const names = new Set<string>();
  const createdPVCs = new Set<string>();
  if (ctx.podName) {
    for (const [v] of objItems(volumes))
      if (isSet(v.ephemeral)) createdPVCs.add(`${ctx.podName}-${str(v.name)}`);
  }
  for (const [v, i] of objItems(volumes)) {
    const p = path.index(i);
    const name = str(v.name);
    const el = validateVolumeSource(v, p, name, ctx);
    if (!name) el.push(fe.required(p.child('name')));
    else el.push(...validateDNS1123Label(name, p.child('name')));
    if (names.has(name)) el.push(fe.duplicate(p.child('name'), name));
    if (el.length === 0) {
      names.add(name);
      valid.set(name, v);
    } else {
      errors.push(...el);
    }
    const claim = isObj(v.persistentVolumeClaim) ? str(v.persistentVolumeClaim.claimName) : '';
    if (claim && createdPVCs.has(claim))
      errors.push(
        fe.invalid(
          p.child('persistentVolumeClaim').child('claimName'),
          claim,
          'must not reference a PVC that gets created for an ephemeral volume',
        ),
      );
  }
  return { volumes: valid, errors };
}

/** The projected service account token sources of a spec's volumes (pods need a service account for them). */
export function serviceAccountTokenSources(volumes: unknown, path: FieldPath): FieldPath[] {
  const out: FieldPath[] = [];
  for (const [v, i] of objItems(volumes)) {
    if (!isObj(v.projected)) continue;
    for (const [src, j] of objItems(v.projected.sources)) {
      if (isSet(src.serviceAccountToken))
        out.push(path.index(i).child('projected').child('sources').index(j).child('serviceAccountToken'));
    }
  }
  return out;
}
