/**
 * Containers: defaulting (SetDefaults_Container, probes, HTTP actions, ports, env field refs) and
 * validation (validateContainerCommon and what it calls, probes, lifecycle handlers, security
 * context), after pkg/apis/core/v1/defaults.go and pkg/apis/core/validation/validation.go.
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import {
  inclusiveRangeError,
  invalidEach,
  isValidPortName,
  isValidPortNum,
} from '../../../api/validation.ts';
import { validateDNS1123Label, validateLocalDescendingPath, validatePathNoBacksteps } from './common.ts';
import { validateEnv, validateEnvFrom } from './env.ts';
import { defaultPullPolicy } from './image.ts';
import {
  arr,
  bool,
  defaultTo,
  fe,
  isObj,
  isSet,
  num,
  type Obj,
  obj,
  objItems,
  optObj,
  optStr,
  str,
} from './json.ts';
import { validateProbesAndLifecycle } from './probes.ts';
import {
  canonicalizeQuantities,
  canonicalizeQuantityField,
  validateResourceRequirements,
} from './resources.ts';
import { validateSecurityContext } from './security.ts';

export const TERMINATION_MESSAGE_PATH_DEFAULT = '/dev/termination-log';

// ---------------------------------------------------------------- defaults

/** SetDefaults_HTTPGetAction */
function defaultHTTPGet(h: unknown): void {
  if (!isObj(h)) return;
  defaultTo(h, 'path', '/');
  defaultTo(h, 'scheme', 'HTTP');
}

/** SetDefaults_Probe and the defaults of its handler. */
export function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  for (const [k, v] of [
    ['timeoutSeconds', 1],
    ['periodSeconds', 10],
    ['successThreshold', 1],
    ['failureThreshold', 3],
  ] as const) {
    if (p[k] === undefined || p[k] === null || p[k] === 0) p[k] = v;
  }
  defaultHTTPGet(p.httpGet);
  if (isObj(p.grpc) && !isSet(p.grpc.service)) p.grpc.service = '';
}

/** SetDefaults_ObjectFieldSelector */
export function defaultFieldRef(f: unknown): void {
  if (isObj(f)) defaultTo(f, 'apiVersion', 'v1');
}

/**
 * The defaults of one container (regular, init or ephemeral): imagePullPolicy,
 * terminationMessagePath/Policy, port protocols, probes, lifecycle HTTP actions, env field
 * refs, and resource quantities in canonical form (rounded up to millis).
 */
export function defaultContainer(c: unknown): void {
  if (!isObj(c)) return;
  if (!isSet(c.imagePullPolicy) || c.imagePullPolicy === '')
    c.imagePullPolicy = defaultPullPolicy(str(c.image));
  defaultTo(c, 'terminationMessagePath', TERMINATION_MESSAGE_PATH_DEFAULT);
  defaultTo(c, 'terminationMessagePolicy', 'File');
  for (const [port] of objItems(c.ports)) defaultTo(port, 'protocol', 'TCP');
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    for (const h of [c.lifecycle.postStart, c.lifecycle.preStop]) if (isObj(h)) defaultHTTPGet(h.httpGet);
  }
  for (const [env] of objItems(c.env)) {
    const from = optObj(env.valueFrom);
    if (from) {
      defaultFieldRef(from.fieldRef);
      if (isObj(from.resourceFieldRef)) canonicalizeQuantityField(from.resourceFieldRef, 'divisor');
    }
  }
  // ResourceRequirements is a struct in Go: it is always serialized, as {} when empty.
  if (!isSet(c.resources)) c.resources = {};
  if (isObj(c.resources)) {
    canonicalizeQuantities(c.resources.limits, true);
    canonicalizeQuantities(c.resources.requests, true);
  }
}

// ---------------------------------------------------------------- validation

/** What container validation needs to know about the pod around it. */
export interface ContainerContext {
  /** Names of the valid volumes, and whether each is PVC-backed (for volumeDevices) or an image volume. */
  volumes: ReadonlyMap<string, Obj>;
  podClaimNames: ReadonlySet<string>;
  /** spec.terminationGracePeriodSeconds, for sleep actions. */
  gracePeriod: number | undefined;
  restartPolicy: string;
  hostUsers: boolean;
}

const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];

/** validateContainerPorts */
export function validateContainerPorts(ports: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  for (const [port, i] of objItems(ports)) {
    const p = path.index(i);
    const name = str(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) errs.push(...invalidEach(p.child('name'), name, msgs));
      else if (names.has(name)) errs.push(fe.duplicate(p.child('name'), name));
      else names.add(name);
    }
    const cp = num(port.containerPort) ?? 0;
    if (cp === 0) errs.push(fe.required(p.child('containerPort')));
    else errs.push(...invalidEach(p.child('containerPort'), cp, isValidPortNum(cp)));
    const hp = num(port.hostPort) ?? 0;
    if (hp !== 0) errs.push(...invalidEach(p.child('hostPort'), hp, isValidPortNum(hp)));
    const proto = str(port.protocol);
    if (!proto) errs.push(fe.required(p.child('protocol')));
    else if (!supportedPortProtocols.includes(proto))
      errs.push(fe.notSupported(p.child('protocol'), proto, supportedPortProtocols));
  }
  return errs;
}

const mountPropagations = ['Bidirectional', 'HostToContainer', 'None'];

/** ValidateVolumeMounts */
function validateVolumeMounts(c: Obj, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const devices = new Map<string, string>();
  for (const [d] of objItems(c.volumeDevices)) devices.set(str(d.name), str(d.devicePath));
  const devicePaths = new Set(devices.values());
  const mountpoints = new Set<string>();
  for (const [mnt, i] of objItems(c.volumeMounts)) {
    const p = path.index(i);
    const name = str(mnt.name);
    const mountPath = str(mnt.mountPath);
    const subPath = str(mnt.subPath);
    const subPathExpr = str(mnt.subPathExpr);
    if (!name) errs.push(fe.required(p.child('name')));
    if (!ctx.volumes.has(name)) errs.push(fe.notFound(p.child('name'), name));
    if (!mountPath) errs.push(fe.required(p.child('mountPath')));
    if (mountpoints.has(mountPath)) errs.push(fe.invalid(p.child('mountPath'), mountPath, 'must be unique'));
    mountpoints.add(mountPath);
    if (devices.has(name))
      errs.push(fe.invalid(p.child('name'), name, 'must not already exist in volumeDevices'));
    if (devicePaths.has(mountPath))
      errs.push(
        fe.invalid(p.child('mountPath'), mountPath, 'must not already exist as a path in volumeDevices'),
      );
    if (isObj(ctx.volumes.get(name)?.image)) {
      if (subPath) errs.push(fe.invalid(p.child('subPath'), subPath, 'not allowed in image volume sources'));
      if (subPathExpr)
        errs.push(fe.invalid(p.child('subPathExpr'), subPathExpr, 'not allowed in image volume sources'));
    }
    // Kubernetes reports these two at volumeMounts.subPath / .subPathExpr, without the index.
    if (subPath) errs.push(...validateLocalDescendingPath(subPath, path.child('subPath')));
    if (subPathExpr) {
      if (subPath)
        errs.push(
          fe.invalid(p.child('subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive'),
        );
      errs.push(...validateLocalDescendingPath(subPathExpr, path.child('subPathExpr')));
    }
    const prop = optStr(mnt.mountPropagation);
    if (prop !== undefined) {
      const pp = path.child('mountPropagation');
      if (!mountPropagations.includes(prop)) errs.push(fe.notSupported(pp, prop, mountPropagations));
      const privileged = bool(obj(c.securityContext).privileged);
      if (prop === 'Bidirectional' && !privileged)
        errs.push(
          fe.forbidden(pp, 'Bidirectional mount propagation is available only to privileged containers'),
        );
    }
    const rro = optStr(mnt.recursiveReadOnly);
    if (rro !== undefined) {
      const rp = path.child('recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (!bool(mnt.readOnly)) errs.push(fe.forbidden(rp, 'may only be specified when readOnly is true'));
        if (prop !== undefined && prop !== 'None')
          errs.push(fe.forbidden(rp, 'may only be specified when mountPropagation is None or not specified'));
      } else if (rro !== 'Disabled') {
        errs.push(fe.notSupported(rp, rro, ['Disabled', 'Enabled', 'IfPossible']));
      }
    }
  }
  return errs;
}

/** ValidateVolumeDevices */
function validateVolumeDevices(c: Obj, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mounts = new Map<string, string>();
  for (const [mnt] of objItems(c.volumeMounts)) mounts.set(str(mnt.name), str(mnt.mountPath));
  const mountPaths = new Set(mounts.values());
  const devicePaths = new Set<string>();
  const deviceNames = new Set<string>();
  for (const [dev, i] of objItems(c.volumeDevices)) {
    const p = path.index(i);
    const name = str(dev.name);
    const devPath = str(dev.devicePath);
    const vol = ctx.volumes.get(name);
    const isPVC = vol !== undefined && (isObj(vol.persistentVolumeClaim) || isObj(vol.ephemeral));
    if (!name) errs.push(fe.required(p.child('name')));
    if (deviceNames.has(name)) errs.push(fe.invalid(p.child('name'), name, 'must be unique'));
    if (vol && !isPVC)
      errs.push(
        fe.invalid(
          p.child('name'),
          name,
          'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode',
        ),
      );
    if (!vol) errs.push(fe.notFound(p.child('name'), name));
    if (!devPath) errs.push(fe.required(p.child('devicePath')));
    if (devicePaths.has(devPath)) errs.push(fe.invalid(p.child('devicePath'), devPath, 'must be unique'));
    if (devPath && validatePathNoBacksteps(devPath, p).length > 0)
      errs.push(fe.invalid(p.child('devicePath'), devPath, "can not contain backsteps ('..')"));
    else devicePaths.add(devPath);
    if (mounts.has(name))
      errs.push(fe.invalid(p.child('name'), name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(devPath))
      errs.push(
        fe.invalid(p.child('devicePath'), devPath, 'must not already exist as a path in volumeMounts'),
      );
    if (name) deviceNames.add(name);
  }
  return errs;
}

const pullPolicies = ['Always', 'IfNotPresent', 'Never'];

/** validatePullPolicy */
export function validatePullPolicy(policy: string, path: FieldPath): FieldError[] {
  if (policy === '') return [fe.required(path)];
  return pullPolicies.includes(policy) ? [] : [fe.notSupported(path, policy, pullPolicies)];
}

/** validateResizePolicy */
function validateResizePolicy(list: unknown, path: FieldPath, podRestartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const [p, i] of objItems(list)) {
    const name = str(p.resourceName);
    const policy = str(p.restartPolicy);
    if (seen.has(name)) errs.push(fe.duplicate(path.index(i), name));
    seen.add(name);
    if (name === '') errs.push(fe.required(path));
    else if (name !== 'cpu' && name !== 'memory') errs.push(fe.notSupported(path, name, ['cpu', 'memory']));
    if (policy === '') errs.push(fe.required(path));
    else if (policy !== 'NotRequired' && policy !== 'RestartContainer')
      errs.push(fe.notSupported(path, policy, ['NotRequired', 'RestartContainer']));
    if (podRestartPolicy === 'Never' && policy !== 'NotRequired')
      errs.push(fe.invalid(path, policy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  }
  return errs;
}

/** validateContainerCommon: what every kind of container must satisfy. */
export function validateContainerCommon(c: Obj, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (!name) errs.push(fe.required(path.child('name')));
  else errs.push(...validateDNS1123Label(name, path.child('name')));
  if (!str(c.image)) errs.push(fe.required(path.child('image')));
  const tmp = str(c.terminationMessagePolicy);
  if (tmp === '') errs.push(fe.required(path.child('terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError')
    errs.push(
      fe.notSupported(path.child('terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']),
    );
  errs.push(
    ...validateContainerPorts(c.ports, path.child('ports')),
    ...validateEnv(c.env, path.child('env')),
    ...validateEnvFrom(c.envFrom, path.child('envFrom')),
    ...validateVolumeMounts(c, ctx, path.child('volumeMounts')),
    ...validateVolumeDevices(c, ctx, path.child('volumeDevices')),
    ...validatePullPolicy(str(c.imagePullPolicy), path.child('imagePullPolicy')),
    ...validateResourceRequirements(c.resources, ctx.podClaimNames, path.child('resources')),
    ...validateResizePolicy(c.resizePolicy, path.child('resizePolicy'), ctx.restartPolicy),
    ...validateSecurityContext(c.securityContext, path.child('securityContext'), ctx.hostUsers),
  );
  return errs;
}

/** validateContainerOnlyForPod: no leading or trailing whitespace in the image. */
export function validateContainerOnlyForPod(c: Obj, path: FieldPath): FieldError[] {
  const image = str(c.image);
  return image.trim().length !== image.length
    ? [fe.invalid(path.child('image'), image, 'must not have leading or trailing whitespace')]
    : [];
}

/** AccumulateUniqueHostPorts */
function checkHostPortConflicts(containers: [Obj, number][], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const [c, ci] of containers) {
    for (const [port, pi] of objItems(c.ports)) {
      const hp = num(port.hostPort) ?? 0;
      if (hp === 0) continue;
      const key = `${str(port.protocol)}/${str(port.hostIP)}/${hp}`;
      if (seen.has(key))
        errs.push(fe.duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), key));
      else seen.add(key);
    }
  }
  return errs;
}

/** validateContainers: the regular containers (at least one, unique names). */
export function validateContainers(
  containers: unknown,
  ctx: ContainerContext,
  path: FieldPath,
): FieldError[] {
  const list = objItems(containers);
  if (arr(containers).length === 0) return [fe.required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  for (const [c, i] of list) {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    const name = str(c.name);
    if (names.has(name)) errs.push(fe.duplicate(p.child('name'), name));
    else names.add(name);
    errs.push(...validateProbesAndLifecycle(c, ctx.gracePeriod, p));
    if (isSet(c.restartPolicy))
      errs.push(fe.forbidden(p.child('restartPolicy'), 'may not be set for non-init containers'));
  }
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

/** validateInitContainers */
export function validateInitContainers(
  initContainers: unknown,
  containers: unknown,
  ctx: ContainerContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(objItems(containers).map(([c]) => str(c.name)));
  for (const [c, i] of objItems(initContainers)) {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    let restartAlways = false;
    const rp = optStr(c.restartPolicy);
    if (rp !== undefined) {
      if (rp !== 'Always') errs.push(fe.notSupported(p.child('restartPolicy'), rp, ['Always']));
      restartAlways = rp === 'Always';
    }
    const name = str(c.name);
    if (names.has(name)) errs.push(fe.duplicate(p.child('name'), name));
    else if (name) names.add(name);
    errs.push(...checkHostPortConflicts([[c, i]], path));
    if (restartAlways) {
      errs.push(...validateProbesAndLifecycle(c, ctx.gracePeriod, p));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (isSet(c[f]))
          errs.push(
            fe.forbidden(p.child(f), 'may not be set for init containers without restartPolicy=Always'),
          );
      }
    }
  }
  return errs;
}

/** The Container fields an ephemeral container may not set, in the struct's order. */
const ephemeralForbidden = [
  'ports',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
];

/** Go's "is this field set" (non-zero); `resources` is a struct, zero when all its fields are unset. */
function isNonZero(key: string, v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (key === 'resources' && isObj(v)) return Object.values(v).some((x) => isSet(x));
  return true;
}

/** validateEphemeralContainers */
export function validateEphemeralContainers(
  ephemeral: unknown,
  containers: unknown,
  initContainers: unknown,
  ctx: ContainerContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const other = new Set<string>();
  for (const [c] of [...objItems(containers), ...objItems(initContainers)]) other.add(str(c.name));
  const all = new Set(other);
  for (const [ec, i] of objItems(ephemeral)) {
    const p = path.index(i);
    errs.push(...validateContainerCommon(ec, ctx, p), ...validateContainerOnlyForPod(ec, p));
    const name = str(ec.name);
    if (all.has(name)) errs.push(fe.duplicate(p.child('name'), name));
    else all.add(name);
    const target = str(ec.targetContainerName);
    if (target && !other.has(target)) errs.push(fe.notFound(p.child('targetContainerName'), target));
    for (const k of ephemeralForbidden) {
      if (isNonZero(k, ec[k]))
        errs.push(fe.forbidden(p.child(k), 'cannot be set for an Ephemeral Container'));
    }
    for (const [vm, j] of objItems(ec.volumeMounts)) {
      for (const f of ['subPath', 'subPathExpr']) {
        if (str(vm[f]))
          errs.push(
            fe.forbidden(
              p.child('volumeMounts').index(j).child(f),
              'cannot be set for an Ephemeral Container',
            ),
          );
      }
    }
  }
  return errs;
}

/** activeDeadlineSeconds' range, shared with pod updates. */
export const activeDeadlineRange = (lo: number) => inclusiveRangeError(lo, 2147483647);
