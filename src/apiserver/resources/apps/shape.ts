/**
 * JSON type checking for the strategies in this folder: the shape machinery is core's (a field of
 * the wrong JSON type is a FieldValueTypeInvalid error at its path; null is accepted everywhere;
 * unknown fields are not its concern). The strategies here check a kind's shape first and validate
 * further only when it is well typed, so the typed validation never meets a value of the wrong type.
 * This file adds the shapes the workload kinds share.
 */
import { a, anyObj, type ObjShape, o, strMapShape, strs } from '../core/shape.ts';

export {
  type ArrShape,
  a,
  anyObj,
  checkShape,
  type Leaf,
  type MapShape,
  m,
  type ObjShape,
  o,
  type Shape,
  shapeErrors,
  strMapShape,
  strs,
} from '../core/shape.ts';

/** metav1.LabelSelector */
export const labelSelectorShape: ObjShape = o({
  matchLabels: strMapShape,
  matchExpressions: a(o({ key: 'string', operator: 'string', values: strs })),
});

/** The metadata of a template (as far as the strategies here read it). */
export const templateMetaShape: ObjShape = o({ labels: strMapShape, annotations: strMapShape });

/** A pod template: metadata and the pod spec fields the workload rules read. */
export const podTemplateShape: ObjShape = o({
  metadata: templateMetaShape,
  spec: o({
    restartPolicy: 'string',
    activeDeadlineSeconds: 'int64',
    nodeSelector: strMapShape,
    tolerations: a(anyObj),
    schedulingGates: a(anyObj),
    affinity: anyObj,
    containers: a(o({ name: 'string' })),
    initContainers: a(o({ name: 'string' })),
  }),
});
