/**
 * Tables for custom resources, as apiextensions-apiserver's tableconvertor builds them: NAME, then
 * one column per additionalPrinterColumn of the served version, each cell the first value its
 * JSONPath selects, shaped by the column's type (a date renders as an age). A version with no
 * printer columns shows NAME and AGE.
 */
import type { KubeObject } from '../../object.ts';
import { AGE_COLUMN, type ColumnDefinition, humanDuration, NAME_COLUMN, type Printer } from '../table.ts';
import { findResults, type JsonPath, parseJsonPath } from './jsonpath.ts';

/** apiextensions.k8s.io/v1 CustomResourceColumnDefinition */
export interface CustomResourceColumnDefinition {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** The column a version without additionalPrinterColumns is served with (serveDefaultColumnsIfEmpty). */
const DEFAULT_COLUMNS: CustomResourceColumnDefinition[] = [
  { name: 'Age', type: 'date', description: AGE_COLUMN.description, jsonPath: '.metadata.creationTimestamp' },
];

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A JSON number as JSONPath prints it: integers (int64 once decoded) in full, other values as Go's
 * %v of a float64 (strconv 'g', shortest), in exponent form below 1e-4 and from 1e6 up.
 */
function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  const [mantissa = '', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** Go's json.Marshal of decoded JSON: map keys sorted, <, > and & escaped. */
function goJSON(v: unknown): string {
  const sorted = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sorted);
    if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, sorted(o[k])]),
      );
    }
    return x;
  };
  return JSON.stringify(sorted(v))
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/** A string column's cell: JSONPath's text output of the value. */
function stringCell(value: unknown): string {
  if (value === null || value === undefined) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goFloat(value);
  if (typeof value === 'boolean') return String(value);
  return goJSON(value);
}

/** cellForJSONValue: the cell for a typed column, null when the value does not fit the type. */
function typedCell(type: string, value: unknown, now: number): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'string':
      return typeof value === 'string' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === '' || value === 'null') return '<unknown>';
      const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
      return Number.isNaN(ms) ? '<invalid>' : humanDuration(now - ms);
    }
  }
  return null;
}

/**
 * The printer for a custom resource version with the given additionalPrinterColumns. A column
 * whose JSONPath does not parse prints empty (null) cells; CRD validation rejects such paths.
 */
export function crdPrinter(
  additionalPrinterColumns: readonly CustomResourceColumnDefinition[] | null | undefined,
): Printer {
  const defs =
    additionalPrinterColumns && additionalPrinterColumns.length > 0
      ? additionalPrinterColumns
      : DEFAULT_COLUMNS;
  const paths: (JsonPath | undefined)[] = defs.map((d) => {
    try {
      return parseJsonPath(d.jsonPath);
    } catch {
      return undefined;
    }
  });
  const columns: ColumnDefinition[] = [
    NAME_COLUMN,
    ...defs.map((d) => ({
      name: d.name,
      type: d.type as ColumnDefinition['type'],
      format: d.format ?? '',
      description: d.description || `Custom resource definition column (in JSONPath format): ${d.jsonPath}`,
      priority: d.priority ?? 0,
    })),
  ];
  return {
    columns,
    row(obj: KubeObject, now: number): unknown[] {
      const cells: unknown[] = [obj.metadata.name ?? ''];
      defs.forEach((d, i) => {
        const path = paths[i];
        const results = path ? findResults(path, obj) : [];
        if (results.length === 0) {
          cells.push(null);
          return;
        }
        // Only simple paths are supported: the first result is the value.
        cells.push(d.type === 'string' ? stringCell(results[0]) : typedCell(d.type, results[0], now));
      });
      return cells;
    },
  };
}
