/**
 * Content negotiation: which representation a client asked for (Accept) and what it sent
 * (Content-Type), following k8s.io/apiserver's negotiation rules.
 */
import { ApiError } from '../../api/errors.ts';

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** What to send back. */
export interface ResponseFormat {
  encoding: 'json' | 'yaml';
  /** meta.k8s.io "as" conversions: a Table, or metadata only. */
  as: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList' | null;
  /** Table rendering options from the `includeObject` query parameter. */
  pretty: boolean;
}

export function parseMediaType(text: string): MediaType {
  const [type = '', ...params] = text.split(';').map((s) => s.trim());
  const out: Record<string, string> = {};
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq > 0)
      out[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '');
  }
  return { type: type.toLowerCase(), params: out };
}

/** The Accept header's media types, in the client's order of preference (q-values respected). */
export function parseAccept(header: string | undefined): MediaType[] {
  if (!header) return [];
  const items = header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => {
      const m = parseMediaType(s);
      const q = m.params.q !== undefined ? Number(m.params.q) : 1;
      return { m, q: Number.isFinite(q) ? q : 0, i };
    });
  return items
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((x) => x.m);
}

const JSON_TYPES = new Set(['application/json', 'application/*', '*/*', 'application/json-patch+json']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml']);

/**
 * Picks the response format for an object (or list) request. Asking only for something skiff cannot
 * produce is a 406. `allowAs` lists the meta.k8s.io conversions the endpoint supports.
 */
export function negotiate(accept: string | undefined, allowAs: readonly string[]): ResponseFormat {
  // What most requests send (client libraries, controllers): plain JSON, decided without parsing.
  if (accept === 'application/json' || accept === '*/*') return { encoding: 'json', as: null, pretty: false };
  const types = parseAccept(accept);
  if (types.length === 0) return { encoding: 'json', as: null, pretty: false };
  for (const m of types) {
    let encoding: ResponseFormat['encoding'] | null = null;
    if (JSON_TYPES.has(m.type)) encoding = 'json';
    else if (YAML_TYPES.has(m.type)) encoding = 'yaml';
    if (!encoding) continue;
    const as = m.params.as;
    if (!as) return { encoding, as: null, pretty: m.params.pretty === 'true' };
    const g = m.params.g;
    const v = m.params.v;
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
    if (as === 'Table' || as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
      if (allowAs.includes(as)) return { encoding, as, pretty: false };
    }
  }
  throw ApiError.notAcceptable(
    'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io',
  );
}

/** The body encodings skiff reads. */
export type BodyEncoding = 'json' | 'yaml' | 'protobuf';

export function bodyEncoding(contentType: string | undefined): BodyEncoding {
  if (contentType === 'application/json') return 'json';
  const type = parseMediaType(contentType ?? 'application/json').type;
  if (type === '' || type === 'application/json') return 'json';
  if (YAML_TYPES.has(type)) return 'yaml';
  if (type === 'application/vnd.kubernetes.protobuf') return 'protobuf';
  throw ApiError.unsupportedMediaType();
}
