/**
 * The volume sources pods and persistent volumes share: hostPath, nfs, CSI driver names and the
 * legacy in-tree sources (checked for their required fields, as validateXVolumeSource do).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { invalidEach, isDNS1123Subdomain } from '../../../api/validation.ts';
import { validateDNS1123Label, validatePathNoBacksteps } from './common.ts';
import { fe, num, type Obj, obj, optStr, str, strList } from './json.ts';

const hostPathTypes = [
  '',
  'BlockDevice',
  'CharDevice',
  'Directory',
  'DirectoryOrCreate',
  'File',
  'FileOrCreate',
  'Socket',
];

/** validateHostPathVolumeSource */
export function validateHostPath(hp: Obj, path: FieldPath): FieldError[] {
  const p = str(hp.path);
  if (!p) return [fe.required(path.child('path'))];
  const errs = validatePathNoBacksteps(p, path.child('path'));
  const type = optStr(hp.type);
  if (type !== undefined && !hostPathTypes.includes(type))
    errs.push(fe.notSupported(path.child('type'), type, hostPathTypes));
  return errs;
}

/** validateNFSVolumeSource */
export function validateNFS(nfs: Obj, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const p = str(nfs.path);
  if (!str(nfs.server)) errs.push(fe.required(path.child('server')));
  if (!p) errs.push(fe.required(path.child('path')));
  if (!p.startsWith('/')) errs.push(fe.invalid(path.child('path'), p, 'must be an absolute path'));
  return errs;
}

/** ValidateCSIDriverName */
export function validateCSIDriverName(driver: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!driver) errs.push(fe.required(path));
  if (Buffer.byteLength(driver) > 63) errs.push(fe.tooLong(path, 63));
  errs.push(...invalidEach(path, driver, isDNS1123Subdomain(driver.toLowerCase())));
  return errs;
}

function required(src: Obj, fields: readonly string[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of fields) {
    const v = src[f];
    if (Array.isArray(v) ? v.length === 0 : !str(v)) errs.push(fe.required(path.child(f)));
  }
  return errs;
}

const pdPartition = 'must be between 1 and 255, inclusive';

/**
 * The checks of the sources pods and persistent volumes share (the rest are checked for their
 * required fields only). `kind` is the JSON field, `path` the path Kubernetes reports under.
 */
export function validateCommonSource(kind: string, src: Obj, path: FieldPath): FieldError[] | undefined {
  switch (kind) {
    case 'hostPath':
      return validateHostPath(src, path);
    case 'nfs':
      return validateNFS(src, path);
    case 'gcePersistentDisk':
    case 'awsElasticBlockStore': {
      const errs = required(src, [kind === 'gcePersistentDisk' ? 'pdName' : 'volumeID'], path);
      const part = num(src.partition) ?? 0;
      if (part < 0 || part > 255) errs.push(fe.invalid(path.child('partition'), part, pdPartition));
      return errs;
    }
    case 'iscsi': {
      const errs = required(src, ['targetPortal'], path);
      const iqn = str(src.iqn);
      if (!iqn) errs.push(fe.required(path.child('iqn')));
      else if (!iqn.startsWith('iqn') && !iqn.startsWith('eui') && !iqn.startsWith('naa'))
        errs.push(fe.invalid(path.child('iqn'), iqn, 'must be valid format starting with iqn, eui, or naa'));
      const lun = num(src.lun) ?? 0;
      if (lun < 0 || lun > 255)
        errs.push(fe.invalid(path.child('lun'), lun, 'must be between 0 and 255, inclusive'));
      return errs;
    }
    case 'glusterfs':
      return required(src, ['endpoints', 'path'], path);
    case 'rbd':
      return [...required(src, ['monitors'], path), ...required(src, ['image'], path)];
    case 'cinder':
    case 'portworxVolume':
      return required(src, ['volumeID'], path);
    case 'cephfs':
      return required(src, ['monitors'], path);
    case 'flocker': {
      const name = str(src.datasetName);
      const uuid = str(src.datasetUUID);
      const errs: FieldError[] = [];
      if (!name && !uuid) errs.push(fe.required(path, 'one of datasetName and datasetUUID is required'));
      if (name && uuid)
        errs.push(
          fe.invalid(path, 'resource', 'datasetName and datasetUUID can not be specified simultaneously'),
        );
      if (name.includes('/')) errs.push(fe.invalid(path.child('datasetName'), name, "must not contain '/'"));
      return errs;
    }
    case 'fc': {
      const errs: FieldError[] = [];
      const wwns = strList(src.targetWWNs);
      const wwids = strList(src.wwids);
      if (wwns.length < 1 && wwids.length < 1)
        errs.push(
          fe.required(path.child('targetWWNs'), 'must specify either targetWWNs or wwids, but not both'),
        );
      if (wwns.length && wwids.length)
        errs.push(
          fe.invalid(
            path.child('targetWWNs'),
            wwns,
            'targetWWNs and wwids can not be specified simultaneously',
          ),
        );
      if (wwns.length) {
        const lun = num(src.lun);
        if (lun === undefined)
          errs.push(fe.required(path.child('lun'), 'lun is required if targetWWNs is specified'));
        else if (lun < 0 || lun > 255)
          errs.push(fe.invalid(path.child('lun'), lun, 'must be between 0 and 255, inclusive'));
      }
      return errs;
    }
    case 'flexVolume': {
      const errs = required(src, ['driver'], path);
      for (const k of Object.keys(obj(src.options))) {
        const ns = k.includes('/') ? (k.split('/')[0] as string) : k;
        const normalized = `.${ns.toLowerCase()}`;
        if (normalized.endsWith('.kubernetes.io') || normalized.endsWith('.k8s.io'))
          errs.push(
            fe.invalid(path.child('options').key(k), k, 'kubernetes.io and k8s.io namespaces are reserved'),
          );
      }
      return errs;
    }
    case 'azureFile':
      return required(src, ['secretName', 'shareName'], path);
    case 'vsphereVolume':
      return required(src, ['volumePath'], path);
    case 'photonPersistentDisk':
      return required(src, ['pdID'], path);
    case 'azureDisk':
      return required(src, ['diskName', 'diskURI'], path);
    case 'scaleIO':
      return required(src, ['gateway', 'system', 'volumeName'], path);
    case 'quobyte': {
      const errs: FieldError[] = [];
      if (!str(src.registry))
        errs.push(
          fe.required(
            path.child('registry'),
            'must be a host:port pair or multiple pairs separated by commas',
          ),
        );
      if (!str(src.volume)) errs.push(fe.required(path.child('volume')));
      return errs;
    }
    case 'storageos': {
      const name = str(src.volumeName);
      const errs = name
        ? validateDNS1123Label(name, path.child('volumeName'))
        : [fe.required(path.child('volumeName'))];
      const ns = str(src.volumeNamespace);
      if (ns) errs.push(...validateDNS1123Label(ns, path.child('volumeNamespace')));
      return errs;
    }
  }
  return undefined;
}
