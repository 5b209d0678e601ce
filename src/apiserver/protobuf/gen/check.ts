/**
 * Checks a schema table read from Go struct tags against the .proto descriptors of the same
 * binary: field numbers, protobuf names, repeated/map-ness, value types, and gogo's `nullable`
 * (a Go value rather than a pointer). Every difference is reported; none is expected.
 */
import { PROTO_TYPE, type ProtoField, type ProtoMessage } from './descriptors.ts';
import { SPECIAL_LAYOUTS, SPECIAL_TYPES, type SpecialType, type TableField } from './table.ts';

const SPECIAL_MESSAGES: Readonly<Record<SpecialType, string>> = Object.fromEntries(
  Object.entries(SPECIAL_TYPES).map(([goName, special]) => {
    const dot = goName.lastIndexOf('.');
    return [
      special,
      `${goName.slice(0, dot).replaceAll('/', '.').replaceAll('-', '_')}.${goName.slice(dot + 1)}`,
    ];
  }),
) as Record<SpecialType, string>;

const SCALAR_PROTO: Readonly<Record<string, number>> = {
  string: PROTO_TYPE.string,
  bool: PROTO_TYPE.bool,
  int32: PROTO_TYPE.int32,
  int64: PROTO_TYPE.int64,
  uint32: PROTO_TYPE.uint32,
  uint64: PROTO_TYPE.uint64,
  double: PROTO_TYPE.double,
  float: PROTO_TYPE.float,
  bytes: PROTO_TYPE.bytes,
};

/** The message name (or scalar type number) a table type stands for in descriptors. */
function expected(type: string): { message?: string; scalar?: number } {
  if (type in SCALAR_PROTO) return { scalar: SCALAR_PROTO[type]! };
  if (type in SPECIAL_MESSAGES) return { message: SPECIAL_MESSAGES[type as SpecialType] };
  return { message: type };
}

function describeType(f: ProtoField): string {
  return f.type === PROTO_TYPE.message ? f.typeName : `type ${f.type}`;
}

function checkValueType(where: string, type: string, pf: ProtoField | undefined, problems: string[]): void {
  if (!pf) {
    problems.push(`${where}: missing in the descriptor`);
    return;
  }
  const want = expected(type);
  if (want.scalar !== undefined ? pf.type !== want.scalar : pf.typeName !== want.message) {
    problems.push(`${where}: table says ${type}, descriptor ${describeType(pf)}`);
  }
}

/**
 * Compares table messages with descriptor messages (by full name). Returns human-readable
 * problems; an empty list means they agree.
 */
export function compareWithDescriptors(
  messages: Readonly<Record<string, readonly TableField[]>>,
  descriptors: ReadonlyMap<string, ProtoMessage>,
): string[] {
  const problems: string[] = [];
  for (const [name, fields] of Object.entries(messages)) {
    const desc = descriptors.get(name);
    if (!desc) {
      problems.push(`${name}: no such message in the descriptors`);
      continue;
    }
    const byNo = new Map(desc.fields.map((f) => [f.number, f]));
    for (const f of fields) {
      const where = `${name}.${f.json || '(inline)'} = ${f.no}`;
      const pf = byNo.get(f.no);
      byNo.delete(f.no);
      if (!pf) {
        problems.push(`${where}: no field with that number in the descriptor`);
        continue;
      }
      if (f.map) {
        const entry = descriptors.get(pf.typeName);
        if (!pf.repeated || !entry?.mapEntry) {
          problems.push(`${where}: a map in Go, not in the descriptor`);
          continue;
        }
        const key = entry.fields.find((x) => x.number === 1);
        if (key?.type !== PROTO_TYPE.string) problems.push(`${where}: map key is not a string`);
        checkValueType(
          `${where} (map value)`,
          f.type,
          entry.fields.find((x) => x.number === 2),
          problems,
        );
        continue;
      }
      if (!!f.rep !== pf.repeated)
        problems.push(`${where}: repeated ${!!f.rep} in Go, ${pf.repeated} in the descriptor`);
      checkValueType(where, f.type, pf, problems);
      // gogo's nullable=false marks Go values; repeated fields and []byte are never "nullable" there.
      if (!f.rep && f.type !== 'bytes' && !!f.ptr !== pf.nullable) {
        problems.push(`${where}: pointer ${!!f.ptr} in Go, nullable ${pf.nullable} in the descriptor`);
      }
    }
    for (const pf of byNo.values())
      problems.push(`${name}.${pf.name} = ${pf.number}: only in the descriptor`);
  }
  // The hand-written special types' layouts.
  for (const [special, layout] of Object.entries(SPECIAL_LAYOUTS)) {
    const name = SPECIAL_MESSAGES[special as SpecialType];
    const desc = descriptors.get(name);
    if (!desc) {
      problems.push(`${name}: no such message in the descriptors`);
      continue;
    }
    for (const [no, fieldName, type] of layout) {
      const pf = desc.fields.find((x) => x.number === no);
      if (!pf || pf.name !== fieldName || pf.type !== SCALAR_PROTO[type]) {
        problems.push(
          `${name}.${fieldName} = ${no} (${type}): descriptor has ${pf ? `${pf.name} ${describeType(pf)}` : 'none'}`,
        );
      }
    }
    if (desc.fields.length !== layout.length)
      problems.push(`${name}: descriptor has ${desc.fields.length} fields`);
  }
  return problems;
}
