/**
 * Builds the schema table from the Go types of a Kubernetes client binary: every message reachable
 * from the root kinds, with field numbers from the `protobuf` struct tags, JSON names and
 * omitempty from the `json` tags, and repeated/map/pointer/value-ness from the Go field types.
 * Those are exactly what Kubernetes' generated marshalers and encoding/json go by.
 */
import type { GoBinary, GoStructField, GoType } from './gotypes.ts';
import {
  type ScalarType,
  type SchemaTable,
  SPECIAL_TYPES,
  type TableField,
  type TableKind,
} from './table.ts';

export interface RootKind {
  apiVersion: string;
  kind: string;
  /** The Go type: `k8s.io/api/core/v1.Pod`. */
  goType: string;
  /** Also add `<kind>List` (`<goType>List`). */
  list?: boolean;
}

const CORE = 'k8s.io/api/core/v1';
const META = 'k8s.io/apimachinery/pkg/apis/meta/v1';

function core(kind: string, list = true): RootKind {
  return { apiVersion: 'v1', kind, goType: `${CORE}.${kind}`, list };
}

function group(apiVersion: string, pkg: string, kind: string, list = true): RootKind {
  return { apiVersion, kind, goType: `k8s.io/api/${pkg}.${kind}`, list };
}

/**
 * The kinds skiff serves (src/apiserver/resources/builtin.ts), their subresource kinds, a few kinds
 * kubectl sends as protobuf, and meta kinds.
 */
export const ROOT_KINDS: readonly RootKind[] = [
  ...[
    'Namespace',
    'Node',
    'Pod',
    'Service',
    'Endpoints',
    'ConfigMap',
    'Secret',
    'ServiceAccount',
    'Event',
    'PersistentVolume',
    'PersistentVolumeClaim',
    'LimitRange',
    'ResourceQuota',
    'PodTemplate',
  ].map((k) => core(k)),
  core('Binding', false),
  ...['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision'].map((k) =>
    group('apps/v1', 'apps/v1', k),
  ),
  group('batch/v1', 'batch/v1', 'Job'),
  group('batch/v1', 'batch/v1', 'CronJob'),
  group('coordination.k8s.io/v1', 'coordination/v1', 'Lease'),
  group('discovery.k8s.io/v1', 'discovery/v1', 'EndpointSlice'),
  group('events.k8s.io/v1', 'events/v1', 'Event'),
  group('scheduling.k8s.io/v1', 'scheduling/v1', 'PriorityClass'),
  group('policy/v1', 'policy/v1', 'PodDisruptionBudget'),
  group('policy/v1', 'policy/v1', 'Eviction', false),
  ...['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].map((k) =>
    group('rbac.authorization.k8s.io/v1', 'rbac/v1', k),
  ),
  group('storage.k8s.io/v1', 'storage/v1', 'StorageClass'),
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    goType: 'k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1.CustomResourceDefinition',
    list: true,
  },
  group('autoscaling/v1', 'autoscaling/v1', 'Scale', false),
  group('authentication.k8s.io/v1', 'authentication/v1', 'TokenRequest', false),
  // Not served by skiff yet, but sent as protobuf by `kubectl create ingress` and `kubectl autoscale`.
  group('networking.k8s.io/v1', 'networking/v1', 'Ingress'),
  group('networking.k8s.io/v1', 'networking/v1', 'IngressClass'),
  group('networking.k8s.io/v1', 'networking/v1', 'NetworkPolicy'),
  group('autoscaling/v1', 'autoscaling/v1', 'HorizontalPodAutoscaler'),
  group('autoscaling/v2', 'autoscaling/v2', 'HorizontalPodAutoscaler'),
  // Registered in every group version by metav1.AddToGroupVersion.
  { apiVersion: '*', kind: 'Status', goType: `${META}.Status` },
  { apiVersion: '*', kind: 'DeleteOptions', goType: `${META}.DeleteOptions` },
  {
    apiVersion: 'meta.k8s.io/v1',
    kind: 'PartialObjectMetadata',
    goType: `${META}.PartialObjectMetadata`,
    list: true,
  },
];

/** Messages that are no kind but that the codec needs: the envelope. */
export const EXTRA_MESSAGES: readonly string[] = ['k8s.io/apimachinery/pkg/runtime.Unknown'];

/** Kubernetes' proto package for a Go package: `k8s.io/api/core/v1` → `k8s.io.api.core.v1`. */
export function protoPackage(pkgPath: string): string {
  return pkgPath.replaceAll('/', '.').replaceAll('-', '_');
}

/** The protobuf message name of a named Go struct. */
export function messageName(t: GoType): string {
  return `${protoPackage(t.pkgPath)}.${t.str.slice(t.str.lastIndexOf('.') + 1)}`;
}

/** reflect.StructTag.Get. */
export function tagValue(tag: string, key: string): string | undefined {
  const re = /([^\s:"]+):"((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(tag); m; m = re.exec(tag)) {
    if (m[1] === key) return JSON.parse(`"${m[2]}"`) as string;
  }
  return undefined;
}

function scalarOf(t: GoType, where: string): ScalarType {
  switch (t.kind) {
    case 'string':
      return 'string';
    case 'bool':
      return 'bool';
    case 'int32':
      return 'int32';
    case 'int64':
    case 'int':
      return 'int64';
    case 'uint32':
      return 'uint32';
    case 'uint64':
      return 'uint64';
    case 'float64':
      return 'double';
    case 'float32':
      return 'float';
    case 'slice':
      if (t.elem?.kind === 'uint8') return 'bytes';
      break;
    default:
  }
  throw new Error(`${where}: unsupported Go type ${t.str} (${t.kind})`);
}

class Builder {
  readonly messages: Record<string, TableField[]> = {};
  private readonly queue: GoType[] = [];

  /** The table type of a Go type (scalar, special or message), queueing messages. */
  typeOf(t: GoType, where: string): string {
    if (t.named && SPECIAL_TYPES[t.fullName]) return SPECIAL_TYPES[t.fullName]!;
    if (t.kind === 'struct') {
      if (!t.named) throw new Error(`${where}: anonymous struct ${t.str}`);
      const name = messageName(t);
      if (!(name in this.messages)) {
        this.messages[name] = [];
        this.queue.push(t);
      }
      return name;
    }
    return scalarOf(t, where);
  }

  field(owner: string, f: GoStructField): TableField | undefined {
    const pb = tagValue(f.tag, 'protobuf');
    const where = `${owner}.${f.name}`;
    if (pb === undefined) {
      // Not part of the protobuf message: TypeMeta, which the envelope carries, and json:"-" fields.
      return undefined;
    }
    const parts = pb.split(',');
    const no = Number(parts[1]);
    if (!Number.isInteger(no) || no <= 0) throw new Error(`${where}: bad protobuf tag ${pb}`);
    const protoName = parts.find((p) => p.startsWith('name='))?.slice(5) ?? f.name;
    const jsonTag = tagValue(f.tag, 'json');
    const [jsonName = '', ...jsonOpts] = (jsonTag ?? '').split(',');
    const inline = jsonOpts.includes('inline') || (f.embedded && jsonName === '');
    // Fields JSON never shows (no json tag, as in the JSONSchemaPropsOr* unions, or json:"-", as in
    // runtime.Unknown) go by their protobuf name.
    const hidden = jsonTag === undefined || jsonName === '-';
    const out: TableField = { no, json: hidden ? protoName : inline ? '' : jsonName || f.name, type: '' };
    let t = f.type;
    if (t.kind === 'ptr') {
      out.ptr = true;
      t = t.elem!;
    }
    if (t.kind === 'slice' && t.elem?.kind !== 'uint8') {
      if (out.ptr) throw new Error(`${where}: pointer to a slice`);
      out.rep = true;
      t = t.elem!;
      if (t.kind === 'ptr') throw new Error(`${where}: slice of pointers`);
    } else if (t.kind === 'map') {
      if (out.ptr) throw new Error(`${where}: pointer to a map`);
      if (t.key?.kind !== 'string') throw new Error(`${where}: map key ${t.key?.str} is not a string`);
      out.map = true;
      t = t.elem!;
      if (t.kind === 'slice' && t.elem?.kind !== 'uint8') {
        throw new Error(`${where}: map of slices (a wrapper message) is not supported`);
      }
      if (t.kind === 'ptr') throw new Error(`${where}: map of pointers`);
    }
    if (inline) {
      if (out.ptr || out.rep || out.map || t.kind !== 'struct')
        throw new Error(`${where}: unsupported inline field`);
      out.inline = true;
    }
    out.type = this.typeOf(t, where);
    if (jsonOpts.includes('omitempty')) out.omitempty = true;
    if (jsonOpts.includes('omitzero')) out.omitzero = true;
    return out;
  }

  run(): void {
    for (let t = this.queue.shift(); t; t = this.queue.shift()) {
      const name = messageName(t);
      const fields: TableField[] = [];
      for (const f of t.fields) {
        const tf = this.field(name, f);
        if (tf) fields.push(tf);
      }
      fields.sort((a, b) => a.no - b.no);
      for (let i = 1; i < fields.length; i++) {
        if (fields[i]!.no === fields[i - 1]!.no)
          throw new Error(`${name}: field number ${fields[i]!.no} used twice`);
      }
      this.messages[name] = fields;
    }
  }
}

/** Builds the table's kinds and messages (its `source` is the caller's to fill in). */
export function buildTable(
  bin: GoBinary,
  roots: readonly RootKind[] = ROOT_KINDS,
  extras: readonly string[] = EXTRA_MESSAGES,
): Omit<SchemaTable, 'source'> {
  const b = new Builder();
  const kinds: TableKind[] = [];
  const lookup = (goType: string): GoType => {
    const t = bin.namedType(goType);
    if (!t) throw new Error(`the binary has no Go type ${goType}`);
    return t;
  };
  for (const r of roots) {
    kinds.push({ apiVersion: r.apiVersion, kind: r.kind, message: b.typeOf(lookup(r.goType), r.goType) });
    if (r.list) {
      const goType = `${r.goType}List`;
      kinds.push({
        apiVersion: r.apiVersion,
        kind: `${r.kind}List`,
        message: b.typeOf(lookup(goType), goType),
      });
    }
  }
  for (const e of extras) b.typeOf(lookup(e), e);
  b.run();
  const messages: Record<string, TableField[]> = {};
  for (const name of Object.keys(b.messages).sort()) messages[name] = b.messages[name]!;
  return { kinds, messages };
}
