/**
 * The generated schema table's format (src/apiserver/protobuf/generated/schema.json): written by
 * scripts/gen-protobuf-schema.ts, read by ../schema.ts. Plain JSON so that it loads fast and
 * diffs well.
 */

/**
 * A field's value type: a scalar, one of the types whose protobuf and JSON forms Kubernetes writes
 * by hand, or the full name of a message in the table.
 */
export type ScalarType =
  | 'string'
  | 'bool'
  | 'int32'
  | 'int64'
  | 'uint32'
  | 'uint64'
  | 'double'
  | 'float'
  | 'bytes';

export type SpecialType =
  /** metav1.Time {seconds=1, nanos=2}; JSON RFC 3339 with seconds, null when zero. */
  | 'time'
  /** metav1.MicroTime {seconds=1, nanos=2}; JSON RFC 3339 with microseconds, null when zero. */
  | 'microtime'
  /** metav1.Duration {duration=1 (ns)}; JSON a Go duration string ("1m30s"). */
  | 'duration'
  /** resource.Quantity {string=1}; JSON the canonical quantity string. */
  | 'quantity'
  /** intstr.IntOrString {type=1, intVal=2, strVal=3}; JSON a number or a string. */
  | 'intOrString'
  /** runtime.RawExtension {raw=1}; JSON the embedded JSON value. */
  | 'rawExtension'
  /** metav1.FieldsV1 {Raw=1}; JSON the embedded JSON value. */
  | 'fieldsV1'
  /** apiextensions v1.JSON {raw=1}; JSON the embedded JSON value. */
  | 'json';

export const SPECIAL_TYPES: Readonly<Record<string, SpecialType>> = {
  'k8s.io/apimachinery/pkg/apis/meta/v1.Time': 'time',
  'k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime': 'microtime',
  'k8s.io/apimachinery/pkg/apis/meta/v1.Duration': 'duration',
  'k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1': 'fieldsV1',
  'k8s.io/apimachinery/pkg/api/resource.Quantity': 'quantity',
  'k8s.io/apimachinery/pkg/util/intstr.IntOrString': 'intOrString',
  'k8s.io/apimachinery/pkg/runtime.RawExtension': 'rawExtension',
  'k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1.JSON': 'json',
};

/** The protobuf layout of each special type, as hand-written in apimachinery (checked against descriptors). */
export const SPECIAL_LAYOUTS: Readonly<
  Record<SpecialType, readonly [no: number, name: string, type: ScalarType][]>
> = {
  time: [
    [1, 'seconds', 'int64'],
    [2, 'nanos', 'int32'],
  ],
  microtime: [
    [1, 'seconds', 'int64'],
    [2, 'nanos', 'int32'],
  ],
  duration: [[1, 'duration', 'int64']],
  quantity: [[1, 'string', 'string']],
  intOrString: [
    [1, 'type', 'int64'],
    [2, 'intVal', 'int32'],
    [3, 'strVal', 'string'],
  ],
  rawExtension: [[1, 'raw', 'bytes']],
  fieldsV1: [[1, 'Raw', 'bytes']],
  json: [[1, 'raw', 'bytes']],
};

export interface TableField {
  no: number;
  /** The JSON key (the Go json tag's name; the protobuf name for fields with no json tag). */
  json: string;
  type: ScalarType | SpecialType | string;
  /** A Go slice: a repeated field, a JSON array. */
  rep?: true;
  /** A Go map with string keys: repeated {key=1, value=2} entries, a JSON object. `type` is the value's. */
  map?: true;
  /** A Go pointer: written only when set, and kept in JSON whatever its value. */
  ptr?: true;
  /** The json tag has omitempty. */
  omitempty?: true;
  /** The json tag has omitzero (Go 1.24+): a zero struct is left out (1.35's creationTimestamp). */
  omitzero?: true;
  /** An embedded struct with `json:",inline"`: a nested message whose fields JSON shows in the parent. */
  inline?: true;
}

export interface TableKind {
  /** `v1`, `apps/v1`, or `*` for kinds every group version has (Status, DeleteOptions). */
  apiVersion: string;
  kind: string;
  message: string;
}

export interface SchemaTable {
  /** Where the table came from, so that it can be regenerated and checked. */
  source: {
    package: string;
    packageVersion: string;
    binary: string;
    sha256: string;
    goVersion: string;
    /** k8s.io modules and their versions, from the binary's build info. */
    modules: Record<string, string>;
  };
  kinds: TableKind[];
  /** Messages by protobuf full name (`k8s.io.api.core.v1.Pod`); fields sorted by number. */
  messages: Record<string, TableField[]>;
}
