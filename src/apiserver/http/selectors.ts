/**
 * labelSelector and fieldSelector query parameters → a predicate over stored objects, with the 400s
 * Kubernetes gives for malformed selectors and unsupported field labels.
 */
import {
  checkDefaultFieldLabels,
  checkFieldLabels,
  FieldLabelNotSupportedError,
  FieldSelectorParseError,
  parseFieldSelector,
} from '../../api/fields.ts';
import {
  type LabelSelector,
  LabelSelectorParseError,
  labelSelectorAsSelector,
  parseSelector,
} from '../../api/labels.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceDef } from '../resource.ts';

/** The field values of `obj` that field selectors can test. */
export function fieldValuesOf(def: ResourceDef, obj: KubeObject): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.name': obj.metadata.name ?? '',
    ...(def.strategy.fieldValues?.(obj) ?? {}),
  };
  if (def.namespaced) fields['metadata.namespace'] = obj.metadata.namespace ?? '';
  return fields;
}

/** The predicate for a request's selectors, or undefined when it has none. Throws 400 ApiErrors. */
export function buildFilter(
  def: ResourceDef,
  query: URLSearchParams,
): ((obj: KubeObject) => boolean) | undefined {
  const ls = query.get('labelSelector') ?? '';
  const fs = query.get('fieldSelector') ?? '';
  if (!ls && !fs) return undefined;
  try {
    const labels = ls ? parseSelector(ls) : null;
    const fields = fs ? parseFieldSelector(fs) : null;
    if (fields) {
      if (def.selectableFields.length > 0) {
        checkFieldLabels(fields, ['metadata.name', 'metadata.namespace', ...def.selectableFields]);
      } else checkDefaultFieldLabels(fields);
    }
    return (obj) =>
      (!labels || labels.matches(obj.metadata.labels)) &&
      (!fields || fields.matches(fieldValuesOf(def, obj)));
  } catch (err) {
    if (
      err instanceof LabelSelectorParseError ||
      err instanceof FieldSelectorParseError ||
      err instanceof FieldLabelNotSupportedError
    ) {
      throw err.toApiError();
    }
    throw err;
  }
}

/** The string form of a metav1.LabelSelector (as Scale.status.selector shows it). */
export function selectorToString(selector: Record<string, unknown>): string {
  try {
    return labelSelectorAsSelector(selector as LabelSelector).toString();
  } catch {
    return '';
  }
}
