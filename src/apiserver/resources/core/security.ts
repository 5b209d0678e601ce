/**
 * Security contexts (ValidateSecurityContext, validatePodSpecSecurityContext) and the OS-specific
 * rules of validateOS / validateLinux / validateWindows.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { byteLength } from '../../../api/validation.ts';
import { validateID, validateLocalDescendingPath } from './common.ts';
import { arr, fe, isObj, isSet, num, type Obj, obj, objItems, optStr, str, strList } from './json.ts';

/** validateSeccompProfileField */
export function validateSeccompProfile(sp: unknown, path: FieldPath): FieldError[] {
  if (!isObj(sp)) return [];
  const errs: FieldError[] = [];
  const type = str(sp.type);
  const types = ['Localhost', 'RuntimeDefault', 'Unconfined'];
  if (type === '') errs.push(fe.required(path.child('type'), 'type is required when seccompProfile is set'));
  else if (!types.includes(type)) errs.push(fe.notSupported(path.child('type'), type, types));
  const local = optStr(sp.localhostProfile);
  if (type === 'Localhost') {
    if (local === undefined)
      errs.push(fe.required(path.child('localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...validateLocalDescendingPath(local, path.child('localhostProfile')));
  } else if (local !== undefined) {
    errs.push(
      fe.invalid(path.child('localhostProfile'), sp, 'can only be set when seccomp type is Localhost'),
    );
  }
  return errs;
}

/** ValidateAppArmorProfileField */
export function validateAppArmorProfile(profile: unknown, path: FieldPath): FieldError[] {
  if (!isObj(profile)) return [];
  const errs: FieldError[] = [];
  const local = optStr(profile.localhostProfile);
  switch (str(profile.type)) {
    case 'Localhost':
      if (local === undefined) {
        errs.push(fe.required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      } else {
        if (local.trim() !== local)
          errs.push(fe.invalid(path.child('localhostProfile'), local, 'must not be padded with whitespace'));
        else if (local === '')
          errs.push(
            fe.required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'),
          );
        if (Buffer.byteLength(local) > 4095) errs.push(fe.tooLong(path.child('localhostProfile'), 4095));
      }
      break;
    case 'RuntimeDefault':
    case 'Unconfined':
      if (local !== undefined)
        errs.push(
          fe.invalid(
            path.child('localhostProfile'),
            local,
            'can only be set when AppArmor type is Localhost',
          ),
        );
      break;
    case '':
      errs.push(fe.required(path.child('type'), 'type is required when appArmorProfile is set'));
      break;
    default:
      errs.push(
        fe.notSupported(path.child('type'), profile.type, ['Localhost', 'RuntimeDefault', 'Unconfined']),
      );
  }
  return errs;
}

/** ValidateSecurityContext (a container's) */
export function validateSecurityContext(sc: unknown, path: FieldPath, hostUsers: boolean): FieldError[] {
  if (!isObj(sc)) return [];
  const errs: FieldError[] = [];
  errs.push(...validateID(num(sc.runAsUser), path.child('runAsUser')));
  errs.push(...validateID(num(sc.runAsGroup), path.child('runAsGroup')));
  const procMount = optStr(sc.procMount);
  if (procMount !== undefined) {
    if (procMount !== 'Default' && procMount !== 'Unmasked')
      errs.push(fe.notSupported(path.child('procMount'), procMount, ['Default', 'Unmasked']));
    if (hostUsers && procMount === 'Unmasked')
      errs.push(
        fe.invalid(path.child('procMount'), procMount, '`hostUsers` must be false to use `Unmasked`'),
      );
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true)
      errs.push(
        fe.invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'),
      );
    for (const cap of strList(obj(sc.capabilities).add)) {
      if (cap === 'CAP_SYS_ADMIN')
        errs.push(
          fe.invalid(
            path,
            sc,
            'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN',
          ),
        );
    }
  }
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, path.child('appArmorProfile')));
  return errs;
}

const SYSCTL_SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const sysctlRe = new RegExp(`^(${SYSCTL_SEGMENT}[\\./])*${SYSCTL_SEGMENT}$`);
const SYSCTL_MAX = 253;

/** utilsysctl.GetNamespace: which namespace a sysctl belongs to ('' when none). */
function sysctlNamespace(name: string): '' | 'net' | 'ipc' {
  const n = name.replaceAll('/', '.');
  if (n.startsWith('net.')) return 'net';
  if (
    n === 'kernel.sem' ||
    n.startsWith('kernel.shm') ||
    n.startsWith('kernel.msg') ||
    n.startsWith('fs.mqueue.')
  )
    return 'ipc';
  return '';
}

/** validatePodSpecSecurityContext */
export function validatePodSecurityContext(spec: Obj, specPath: FieldPath): FieldError[] {
  const sc = spec.securityContext;
  if (!isObj(sc)) return [];
  const p = specPath.child('securityContext');
  const errs: FieldError[] = [];
  errs.push(...validateID(num(sc.fsGroup), p.child('fsGroup')));
  errs.push(...validateID(num(sc.runAsUser), p.child('runAsUser')));
  errs.push(...validateID(num(sc.runAsGroup), p.child('runAsGroup')));
  arr(sc.supplementalGroups).forEach((g, i) => {
    errs.push(...validateID(num(g), p.child('supplementalGroups').index(i)));
  });
  if (spec.shareProcessNamespace === true && spec.hostPID === true)
    errs.push(
      fe.invalid(
        p.child('shareProcessNamespace'),
        true,
        'ShareProcessNamespace and HostPID cannot both be enabled',
      ),
    );
  const names = new Set<string>();
  for (const [s, i] of objItems(sc.sysctls)) {
    const np = p.child('sysctls').index(i).child('name');
    const name = str(s.name);
    if (!name) errs.push(fe.required(np));
    else if (byteLength(name) > SYSCTL_MAX || !sysctlRe.test(name))
      errs.push(
        fe.invalid(np, name, `must have at most ${SYSCTL_MAX} characters and match regex ${sysctlRe.source}`),
      );
    else if (names.has(name)) errs.push(fe.duplicate(np, name));
    const ns = sysctlNamespace(name);
    if (spec.hostNetwork === true && ns === 'net')
      errs.push(fe.invalid(np, name, "may not be specified when 'hostNetwork' is true"));
    else if (spec.hostIPC === true && ns === 'ipc')
      errs.push(fe.invalid(np, name, "may not be specified when 'hostIPC' is true"));
    names.add(name);
  }
  const fsgcp = optStr(sc.fsGroupChangePolicy);
  if (fsgcp !== undefined && fsgcp !== 'Always' && fsgcp !== 'OnRootMismatch')
    errs.push(fe.notSupported(p.child('fsGroupChangePolicy'), fsgcp, ['Always', 'OnRootMismatch']));
  errs.push(...validateSeccompProfile(sc.seccompProfile, p.child('seccompProfile')));
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, p.child('appArmorProfile')));
  const sgp = optStr(sc.supplementalGroupsPolicy);
  if (sgp !== undefined && sgp !== 'Merge' && sgp !== 'Strict')
    errs.push(fe.notSupported(p.child('supplementalGroupsPolicy'), sgp, ['Merge', 'Strict']));
  const selcp = optStr(sc.seLinuxChangePolicy);
  if (selcp !== undefined && selcp !== 'MountOption' && selcp !== 'Recursive')
    errs.push(fe.notSupported(p.child('seLinuxChangePolicy'), selcp, ['MountOption', 'Recursive']));
  return errs;
}

const windowsForbiddenContainer = [
  'appArmorProfile',
  'seLinuxOptions',
  'seccompProfile',
  'capabilities',
  'readOnlyRootFilesystem',
  'privileged',
  'allowPrivilegeEscalation',
  'procMount',
  'runAsUser',
  'runAsGroup',
];

/** Every container of a spec with its path (podshelper.VisitContainersWithPath order). */
export function allContainers(spec: Obj, path: FieldPath): [Obj, FieldPath][] {
  const out: [Obj, FieldPath][] = [];
  for (const key of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const [c, i] of objItems(spec[key])) out.push([c, path.child(key).index(i)]);
  }
  return out;
}

/** validateOS, then validateLinux / validateWindows */
export function validateOS(spec: Obj, path: FieldPath): FieldError[] {
  if (!isObj(spec.os)) return [];
  const p = path.child('os');
  const name = str(spec.os.name);
  if (!name) return [fe.required(p.child('name'), 'cannot be empty')];
  if (name !== 'linux' && name !== 'windows') return [fe.notSupported(p, name, ['linux', 'windows'])];
  const errs: FieldError[] = [];
  const sc = obj(spec.securityContext);
  const scPath = path.child('securityContext');
  if (name === 'linux') {
    if (isSet(sc.windowsOptions))
      errs.push(
        fe.forbidden(scPath.child('windowsOptions'), 'windows options cannot be set for a linux pod'),
      );
    for (const [c, cp] of allContainers(spec, path)) {
      if (isSet(obj(c.securityContext).windowsOptions))
        errs.push(
          fe.forbidden(
            cp.child('securityContext').child('windowsOptions'),
            'windows options cannot be set for a linux pod',
          ),
        );
    }
    return errs;
  }
  const forbid = (p2: FieldPath) => errs.push(fe.forbidden(p2, 'cannot be set for a windows pod'));
  // In Kubernetes' order; hostUsers, hostPID, hostIPC and shareProcessNamespace are reported at the spec.
  const checks: [string, FieldPath, boolean][] = [
    ['appArmorProfile', scPath, isSet(sc.appArmorProfile)],
    ['seLinuxOptions', scPath, isSet(sc.seLinuxOptions)],
    ['hostUsers', path, isSet(spec.hostUsers)],
    ['hostPID', path, spec.hostPID === true],
    ['hostIPC', path, spec.hostIPC === true],
    ['seccompProfile', scPath, isSet(sc.seccompProfile)],
    ['fsGroup', scPath, isSet(sc.fsGroup)],
    ['fsGroupChangePolicy', scPath, isSet(sc.fsGroupChangePolicy)],
    ['sysctls', scPath, arr(sc.sysctls).length > 0],
    ['shareProcessNamespace', path, isSet(spec.shareProcessNamespace)],
    ['runAsUser', scPath, isSet(sc.runAsUser)],
    ['runAsGroup', scPath, isSet(sc.runAsGroup)],
    ['supplementalGroups', scPath, isSet(sc.supplementalGroups)],
    ['supplementalGroupsPolicy', scPath, isSet(sc.supplementalGroupsPolicy)],
    ['seLinuxChangePolicy', scPath, isSet(sc.seLinuxChangePolicy)],
  ];
  for (const [f, base, set] of checks) if (set) forbid(base.child(f));
  for (const [c, cp] of allContainers(spec, path)) {
    const csc = c.securityContext;
    if (!isObj(csc)) continue;
    for (const f of windowsForbiddenContainer)
      if (isSet(csc[f])) forbid(cp.child('securityContext').child(f));
  }
  return errs;
}
