/**
 * The Pod strategy: SetDefaults_Pod (on top of the pod spec defaults), the QoS class, and
 * validation of creates (ValidatePodCreate), updates (ValidatePodUpdate: only images,
 * activeDeadlineSeconds, tolerations additions, terminationGracePeriodSeconds and scheduling gate
 * removals may change) and status updates (ValidatePodStatusUpdate).
 */
import type { FieldError } from '../../../api/errors.ts';
import { FieldPath } from '../../../api/errors.ts';
import type { Quantity } from '../../../api/quantity.ts';
import { invalidEach, nameIsDNSSubdomain } from '../../../api/validation.ts';
import type { KubeObject } from '../../object.ts';
import type { Strategy, WriteContext } from '../../resource.ts';
import {
  APPARMOR_CONTAINER_PREFIX,
  MIRROR_POD_ANNOTATION,
  validatePodSpecificAnnotations,
} from './annotations.ts';
import { validateImmutable, validateQualifiedName } from './common.ts';
import { activeDeadlineRange } from './container.ts';
import { isDualStack, validateIP } from './ip.ts';
import {
  arr,
  describeDiff,
  ensureObj,
  fe,
  isObj,
  isSet,
  jsonEqual,
  num,
  type Obj,
  obj,
  objItems,
  optObj,
  str,
  strMap,
} from './json.ts';
import { defaultPodSpec, validatePodSpec } from './podspec.ts';
import { resourceList } from './resources.ts';
import { validateTolerations } from './scheduling.ts';
import { shapeErrors } from './shape.ts';
import { podSpec, podStatus } from './shapes.ts';

const spec = new FieldPath('spec');
const meta = new FieldPath('metadata');

/** SetDefaults_Pod: requests default to limits, enableServiceLinks true, host ports under hostNetwork. */
function defaultPodOnly(s: Obj): void {
  for (const key of ['containers', 'initContainers']) {
    for (const [c] of objItems(s[key])) {
      const r = c.resources;
      if (!isObj(r) || !isObj(r.limits)) continue;
      const requests = ensureObj(r, 'requests');
      if (!requests) continue;
      for (const [k, v] of Object.entries(r.limits)) if (!(k in requests)) requests[k] = v;
    }
  }
  if (!isSet(s.enableServiceLinks)) s.enableServiceLinks = true;
  if (s.hostNetwork === true) {
    for (const key of ['containers', 'initContainers']) {
      for (const [c] of objItems(s[key])) {
        for (const [port] of objItems(c.ports)) {
          if (!num(port.hostPort)) port.hostPort = port.containerPort;
        }
      }
    }
  }
}

/** qos.GetPodQOS: Guaranteed, Burstable or BestEffort, from cpu and memory requests and limits. */
export function podQOS(s: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  const add = (m: Map<string, Quantity>, k: string, q: Quantity) => {
    const prev = m.get(k);
    m.set(k, prev ? prev.add(q) : q);
  };
  const qosResource = (k: string) => k === 'cpu' || k === 'memory';
  let guaranteed = true;
  const podResources = obj(s.resources);
  const podLevel = [...resourceList(podResources.requests), ...resourceList(podResources.limits)].some(
    ([k]) => qosResource(k),
  );
  const sources: Obj[] = podLevel
    ? [podResources]
    : [...objItems(s.initContainers), ...objItems(s.containers)].map(([c]) => obj(c.resources));
  for (const r of sources) {
    for (const [k, q] of resourceList(r.requests)) if (qosResource(k) && q.sign() > 0) add(requests, k, q);
    const found = new Set<string>();
    for (const [k, q] of resourceList(r.limits)) {
      if (qosResource(k) && q.sign() > 0) {
        found.add(k);
        add(limits, k, q);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [k, q] of requests) {
      const l = limits.get(k);
      if (l?.cmp(q) !== 0) guaranteed = false;
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** Defaults a Pod in place: the pod spec defaults, SetDefaults_Pod, and status.qosClass when unset. */
export function defaultPod(obj: KubeObject): void {
  const s = ensureObj(obj, 'spec');
  if (!s) return;
  defaultPodSpec(s);
  defaultPodOnly(s);
  const status = obj.status;
  if (isObj(status) && !isSet(status.qosClass)) status.qosClass = podQOS(s);
}

/** Objects passed to prepareForUpdate: validate() skips the create-only rules for them. */
const updating = new WeakSet<object>();

/** ValidatePodCreate's spec part (metadata is validated by the registry). */
function validatePod(pod: KubeObject, ctx: WriteContext): FieldError[] {
  if (ctx.subresource === 'status') return shapeErrors(pod.status, podStatus, new FieldPath('status'));
  const shape = shapeErrors(pod.spec, podSpec, spec);
  if (!isObj(pod.spec) && shape.length === 0) shape.push(fe.required(spec));
  if (shape.length) return shape;
  const s = obj(pod.spec);
  const errs = [
    ...validatePodSpecificAnnotations(pod.metadata.annotations, s, meta.child('annotations')),
    ...validatePodSpec(s, spec, { resourceIsPod: true, podName: pod.metadata.name }),
  ];
  if (!updating.has(pod)) {
    if (arr(s.ephemeralContainers).length > 0)
      errs.push(fe.forbidden(spec.child('ephemeralContainers'), 'cannot be set on create'));
    if (str(s.nodeName) && arr(s.schedulingGates).length > 0)
      errs.push(
        fe.forbidden(spec.child('nodeName'), 'cannot be set until all schedulingGates have been cleared'),
      );
  }
  return errs;
}

/** ValidatePodSpecificAnnotationUpdates: the mirror pod and AppArmor annotations may not change. */
function validateAnnotationUpdates(next: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const path = meta.child('annotations');
  const a = strMap(next.metadata.annotations);
  const b = strMap(old.metadata.annotations);
  for (const [k, v] of Object.entries(b)) {
    if (a[k] === v) continue;
    if (k.startsWith(APPARMOR_CONTAINER_PREFIX))
      errs.push(fe.forbidden(path.key(k), 'may not remove or update AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION)
      errs.push(fe.forbidden(path.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(a)) {
    if (k in b) continue;
    if (k.startsWith(APPARMOR_CONTAINER_PREFIX))
      errs.push(fe.forbidden(path.key(k), 'may not add AppArmor annotations'));
    if (k === MIRROR_POD_ANNOTATION)
      errs.push(fe.forbidden(path.key(k), 'may not add mirror pod annotation'));
  }
  return errs;
}

/** ValidateContainerUpdates: same number of containers; images set and trimmed. */
function validateContainerUpdates(
  next: unknown,
  old: unknown,
  path: FieldPath,
): { errs: FieldError[]; stop: boolean } {
  if (arr(next).length !== arr(old).length)
    return { errs: [fe.forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  for (const [c, i] of objItems(next)) {
    const image = str(c.image);
    if (!image) errs.push(fe.required(path.index(i).child('image')));
    if (image.trim().length !== image.length)
      errs.push(
        fe.invalid(path.index(i).child('image'), image, 'must not have leading or trailing whitespace'),
      );
  }
  return { errs, stop: false };
}

const updatablePodSpecFields = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** The message of a forbidden pod spec update (without the diff). */
export const POD_UPDATE_FORBIDDEN = `pod updates may not change fields other than ${updatablePodSpecFields.join(',')}`;

/** validateOnlyAddedTolerations: existing tolerations stay, except for their tolerationSeconds. */
function validateOnlyAddedTolerations(next: unknown, old: unknown, path: FieldPath): FieldError[] {
  const newList = objItems(next).map(([t]) => t);
  for (const [o] of objItems(old)) {
    const found = newList.some((n) => jsonEqual({ ...o, tolerationSeconds: n.tolerationSeconds }, n));
    if (!found)
      return [fe.forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(next, path);
}

/** ValidatePodUpdate's update rules (the new spec itself is checked by validate()). */
function validatePodSpecUpdate(next: KubeObject, old: KubeObject, ctx: WriteContext): FieldError[] {
  const errs = validateAnnotationUpdates(next, old);
  const ns = obj(next.spec);
  const os = obj(old.spec);
  for (const key of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(ns[key], os[key], spec.child(key));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const newADS = num(ns.activeDeadlineSeconds);
  const oldADS = num(os.activeDeadlineSeconds);
  if (newADS !== undefined) {
    if (newADS < 0 || newADS > 2147483647) {
      errs.push(fe.invalid(spec.child('activeDeadlineSeconds'), newADS, activeDeadlineRange(0)));
      return errs;
    }
    if (oldADS !== undefined && oldADS < newADS) {
      errs.push(
        fe.invalid(
          spec.child('activeDeadlineSeconds'),
          newADS,
          'must be less than or equal to previous value',
        ),
      );
      return errs;
    }
  } else if (oldADS !== undefined) {
    errs.push(
      fe.invalid(
        spec.child('activeDeadlineSeconds'),
        null,
        'must not update from a positive integer to nil value',
      ),
    );
  }
  const added = validateOnlyAddedTolerations(ns.tolerations, os.tolerations, spec.child('tolerations'));
  // validate() reports invalid tolerations already; keep only the "modified" error here.
  errs.push(...added.filter((e) => e.type === 'FieldValueForbidden'));
  const newGates = objItems(ns.schedulingGates);
  const oldGateNames = new Set(objItems(os.schedulingGates).map(([g]) => str(g.name)));
  for (const [g, i] of newGates) {
    const name = str(g.name);
    if (!oldGateNames.has(name))
      errs.push(
        fe.forbidden(
          spec.child('schedulingGates').index(i).child('name'),
          `only deletion is allowed, but found new scheduling gate '${name}'`,
        ),
      );
  }
  if (jsonEqual(ns, os)) return errs;
  // Munge the fields that may change, then anything left is forbidden.
  const munged: Obj = structuredClone(ns);
  for (const key of ['containers', 'initContainers']) {
    const oldList = arr(os[key]);
    arr(munged[key]).forEach((c, i) => {
      if (isObj(c)) {
        const oc = optObj(oldList[i]);
        if (oc && isSet(oc.image)) c.image = oc.image;
        else delete c.image;
      }
    });
  }
  setOrDelete(munged, 'activeDeadlineSeconds', os.activeDeadlineSeconds);
  setOrDelete(munged, 'schedulingGates', os.schedulingGates);
  setOrDelete(munged, 'tolerations', os.tolerations);
  const oldGrace = num(os.terminationGracePeriodSeconds);
  if (oldGrace !== undefined && oldGrace < 0 && num(munged.terminationGracePeriodSeconds) === 1)
    munged.terminationGracePeriodSeconds = oldGrace;
  if (arr(os.schedulingGates).length > 0) {
    // Gated pods may gain nodeSelector entries (no mutations or deletions).
    const a = strMap(munged.nodeSelector);
    const b = strMap(os.nodeSelector);
    if (!jsonEqual(a, b)) {
      if (Object.entries(b).some(([k, v]) => a[k] !== v))
        errs.push(
          fe.invalid(
            spec.child('nodeSelector'),
            a,
            'only additions to spec.nodeSelector are allowed (no mutations or deletions)',
          ),
        );
      setOrDelete(munged, 'nodeSelector', os.nodeSelector);
    }
  }
  // A binding (pods/binding) sets spec.nodeName once.
  if ((ctx.subresource as string) === 'binding' && !str(os.nodeName))
    setOrDelete(munged, 'nodeName', os.nodeName);
  if (!jsonEqual(munged, os)) {
    errs.push(fe.forbidden(spec, `${POD_UPDATE_FORBIDDEN}\n${describeDiff(os, munged, 'spec')}`));
  }
  return errs;
}

function setOrDelete(o: Obj, key: string, value: unknown): void {
  if (value === undefined) delete o[key];
  else o[key] = value;
}

/** ValidateContainerStateTransition: containers that may not restart stay terminated. */
function validateStateTransitions(
  next: unknown,
  old: unknown,
  path: FieldPath,
  restartPolicy: string,
  restartable: (name: string) => boolean,
): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  const newStatuses = objItems(next).map(([s]) => s);
  for (const [o, i] of objItems(old)) {
    const term = optObj(obj(o.state).terminated);
    if (!term) continue;
    if ((num(term.exitCode) ?? 0) !== 0 && restartPolicy === 'OnFailure') continue;
    if (restartable(str(o.name))) continue;
    for (const n of newStatuses) {
      if (str(n.name) === str(o.name) && !isObj(obj(n.state).terminated))
        errs.push(
          fe.forbidden(path.index(i).child('state'), 'may not be transitioned to non-terminated state'),
        );
    }
  }
  return errs;
}

/** validatePodIPs / validateHostIPs */
function validateIPList(list: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const ips = objItems(list).map(([x]) => str(x.ip));
  ips.forEach((ip, i) => {
    errs.push(...validateIP(ip, path.index(i)));
  });
  if (ips.length > 1) {
    if (!isDualStack(ips) || ips.length > 2)
      errs.push(fe.invalid(path, list, 'may specify no more than one IP for each IP family'));
    const seen = new Set<string>();
    objItems(list).forEach(([x, i]) => {
      if (seen.has(str(x.ip))) errs.push(fe.duplicate(path.index(i), x));
      seen.add(str(x.ip));
    });
  }
  return errs;
}

const systemConditions = new Set(['PodScheduled', 'Ready', 'Initialized']);

/** ValidatePodStatusUpdate */
function validatePodStatusUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateAnnotationUpdates(next, old);
  const ns = obj(next.status);
  const os = obj(old.status);
  for (const [c, i] of objItems(ns.conditions)) {
    const type = str(c.type);
    // Kubernetes reports these under metadata.conditions.
    if (!systemConditions.has(type))
      errs.push(...validateQualifiedName(type, meta.child('conditions').index(i).child('Type')));
  }
  const status = new FieldPath('status');
  const nominated = str(ns.nominatedNodeName);
  if (nominated && nominated !== str(os.nominatedNodeName))
    errs.push(
      ...invalidEach(status.child('nominatedNodeName'), nominated, nameIsDNSSubdomain(nominated, false)),
    );
  errs.push(...validateImmutable(ns.qosClass, os.qosClass, status.child('qosClass')));
  const oldSpec = obj(old.spec);
  const restartPolicy = str(oldSpec.restartPolicy);
  const restartableInit = new Set(
    objItems(oldSpec.initContainers)
      .filter(([c]) => c.restartPolicy === 'Always')
      .map(([c]) => str(c.name)),
  );
  errs.push(
    ...validateStateTransitions(
      ns.containerStatuses,
      os.containerStatuses,
      status.child('containerStatuses'),
      restartPolicy,
      () => false,
    ),
    ...validateStateTransitions(
      ns.initContainerStatuses,
      os.initContainerStatuses,
      status.child('initContainerStatuses'),
      restartPolicy,
      (n) => restartableInit.has(n),
    ),
    ...validateStateTransitions(
      ns.ephemeralContainerStatuses,
      os.ephemeralContainerStatuses,
      status.child('ephemeralContainerStatuses'),
      'Never',
      () => false,
    ),
    ...validateIPList(ns.podIPs, status.child('podIPs')),
  );
  const hostIPs = objItems(ns.hostIPs);
  if (hostIPs.length > 0) {
    const first = str(hostIPs[0]?.[0].ip);
    if (str(ns.hostIP) !== first)
      errs.push(fe.invalid(status.child('hostIPs').index(0).child('ip'), first, 'must be equal to `hostIP`'));
    errs.push(...validateIPList(ns.hostIPs, status.child('hostIPs')));
  }
  return errs;
}

/** ValidatePodEphemeralContainersUpdate: existing ephemeral containers may not change or go away. */
function validateEphemeralUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (strMap(old.metadata.annotations)[MIRROR_POD_ANNOTATION] !== undefined)
    return [fe.forbidden(new FieldPath(''), 'static pods do not support ephemeral containers')];
  const path = spec.child('ephemeralContainers');
  const byName = new Map(objItems(obj(next.spec).ephemeralContainers).map(([c]) => [str(c.name), c]));
  for (const [o] of objItems(obj(old.spec).ephemeralContainers)) {
    const name = str(o.name);
    const n = byName.get(name);
    if (!n) errs.push(fe.forbidden(path, `existing ephemeral containers "${name}" may not be removed\n`));
    else if (!jsonEqual(o, n))
      errs.push(
        fe.forbidden(
          path,
          `existing ephemeral containers "${name}" may not be changed\n${describeDiff(o, n, name)}`,
        ),
      );
  }
  return errs;
}

/** The pods strategy hooks. */
export function podStrategy(): Partial<Strategy> {
  return {
    defaults: defaultPod,
    prepareForUpdate(next, old, ctx) {
      updating.add(next);
      // pods/ephemeralcontainers changes only spec.ephemeralContainers.
      if ((ctx.subresource as string) === 'ephemeralcontainers' && isObj(old.spec)) {
        const ephemeral = obj(next.spec).ephemeralContainers;
        const s: Obj = structuredClone(old.spec);
        if (ephemeral === undefined) delete s.ephemeralContainers;
        else s.ephemeralContainers = ephemeral;
        next.spec = s;
      }
    },
    validate: validatePod,
    validateUpdate(next, old, ctx) {
      if (ctx.subresource === 'status') return validatePodStatusUpdate(next, old);
      if (shapeErrors(next.spec, podSpec, spec).length) return [];
      if ((ctx.subresource as string) === 'ephemeralcontainers') return validateEphemeralUpdate(next, old);
      return validatePodSpecUpdate(next, old, ctx);
    },
  };
}
