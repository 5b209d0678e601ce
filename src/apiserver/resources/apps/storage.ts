/**
 * storage.k8s.io/v1 StorageClass: SetDefaults_StorageClass (reclaimPolicy Delete, volumeBindingMode
 * Immediate), ValidateStorageClass (provisioner, parameters, reclaimPolicy, volumeBindingMode,
 * allowedTopologies) and ValidateStorageClassUpdate (pkg/apis/storage).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { byteLength, validateLabelName } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import { immutable, type KindRules, ROOT, semanticEqual, validateQualifiedName } from './common.ts';
import { defaultUnset, fe, isSet, objItems, str, strList, strMap } from './json.ts';
import { a, o, shapeErrors, strMapShape, strs } from './shape.ts';

const MAX_PARAMETER_SIZE = 256 * 1024;
const MAX_PARAMETERS = 512;
const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

const storageClassShape = o({
  provisioner: 'string',
  parameters: strMapShape,
  reclaimPolicy: 'string',
  mountOptions: strs,
  allowVolumeExpansion: 'bool',
  volumeBindingMode: 'string',
  allowedTopologies: a(o({ matchLabelExpressions: a(o({ key: 'string', values: strs })) })),
});

function validateParameters(params: Record<string, string>, path: FieldPath): FieldError[] {
  const entries = Object.entries(params);
  if (entries.length > MAX_PARAMETERS) return [fe.tooLong(path, MAX_PARAMETERS)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(fe.invalid(path, k, 'field can not be empty.'));
    size += byteLength(k) + byteLength(v);
  }
  if (size > MAX_PARAMETER_SIZE) errs.push(fe.tooLong(path, MAX_PARAMETER_SIZE));
  return errs;
}

/** ValidateTopologySelectorTerm for each term, and no two terms alike. */
function validateAllowedTopologies(terms: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen: Record<string, string[]>[] = [];
  for (const [term, i] of objItems(terms)) {
    const exprPath = path.index(i).child('matchLabelExpressions');
    const exprs: Record<string, string[]> = {};
    for (const [req, j] of objItems(term.matchLabelExpressions)) {
      const reqPath = exprPath.index(j);
      const values = strList(req.values);
      if (values.length === 0) errs.push(fe.required(reqPath.child('values')));
      const set = new Set<string>();
      values.forEach((v, k) => {
        if (set.has(v)) errs.push(fe.duplicate(reqPath.child('values').index(k), v));
        set.add(v);
      });
      const key = str(req.key);
      errs.push(...validateLabelName(key, reqPath.child('key')));
      if (Object.hasOwn(exprs, key)) errs.push(fe.duplicate(reqPath.child('key'), key));
      exprs[key] = [...set].sort();
    }
    // Kubernetes compares against a list that starts with one nil entry per term, so a term with
    // no expressions always counts as a duplicate.
    const empty = Object.keys(exprs).length === 0;
    if (empty || seen.some((s) => semanticEqual(s, exprs))) errs.push(fe.duplicate(exprPath, ''));
    seen.push(exprs);
  }
  return errs;
}

function validateStorageClass(obj: KubeObject): FieldError[] {
  const shape = shapeErrors(obj, storageClassShape, ROOT);
  if (shape.length) return shape;
  const errs: FieldError[] = [];
  const provisioner = str(obj.provisioner);
  if (provisioner.length === 0) errs.push(fe.required(ROOT.child('provisioner')));
  else errs.push(...validateQualifiedName(provisioner.toLowerCase(), ROOT.child('provisioner')));
  errs.push(...validateParameters(strMap(obj.parameters), ROOT.child('parameters')));
  const reclaim = str(obj.reclaimPolicy);
  if (reclaim.length > 0 && !RECLAIM_POLICIES.includes(reclaim))
    errs.push(fe.notSupported(ROOT.child('reclaimPolicy'), reclaim, RECLAIM_POLICIES));
  if (!isSet(obj.volumeBindingMode)) errs.push(fe.required(ROOT.child('volumeBindingMode')));
  else if (!BINDING_MODES.includes(str(obj.volumeBindingMode)))
    errs.push(fe.notSupported(ROOT.child('volumeBindingMode'), str(obj.volumeBindingMode), BINDING_MODES));
  errs.push(...validateAllowedTopologies(obj.allowedTopologies, ROOT.child('allowedTopologies')));
  return errs;
}

function validateStorageClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStorageClass(obj);
  if (!semanticEqual(strMap(obj.parameters), strMap(old.parameters)))
    errs.push(fe.forbidden(ROOT.child('parameters'), 'updates to parameters are forbidden.'));
  if (str(obj.provisioner) !== str(old.provisioner))
    errs.push(fe.forbidden(ROOT.child('provisioner'), 'updates to provisioner are forbidden.'));
  if (str(obj.reclaimPolicy) !== str(old.reclaimPolicy))
    errs.push(fe.forbidden(ROOT.child('reclaimPolicy'), 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(obj.volumeBindingMode, old.volumeBindingMode, ROOT.child('volumeBindingMode')));
  return errs;
}

export function storageClassRules(): KindRules {
  return {
    defaults(obj) {
      defaultUnset(obj, 'reclaimPolicy', 'Delete');
      defaultUnset(obj, 'volumeBindingMode', 'Immediate');
    },
    validateCreate: validateStorageClass,
    validateUpdate: validateStorageClassUpdate,
  };
}
