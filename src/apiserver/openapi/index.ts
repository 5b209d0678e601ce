/**
 * OpenAPI v3 for the API server: `/openapi/v3` (the index) and `/openapi/v3/<group-path>` (one
 * document per group-version), as kube-apiserver serves them.
 *
 * What clients need from them:
 * - `kubectl apply`/`create` (default validation) look, per kind, for a PATCH operation with the kind's
 *   `x-kubernetes-group-version-kind` and a `fieldValidation` parameter; then they send
 *   `fieldValidation=Strict` and leave validation to the server (otherwise they'd want /openapi/v2).
 * - `kubectl explain` reads the kind's schema (found by its `x-kubernetes-group-version-kind`) and
 *   follows references through `components.schemas`, printing descriptions and types.
 *
 * Built-in kinds take their schemas from the bundled Kubernetes data (data.ts); custom resources from
 * their CRD's `openAPIV3Schema` (crd.ts). Documents are built on first request and cached until the
 * group-version's resources change; the hash (SHA-512 of the body, in the index's `serverRelativeURL`
 * and as the ETag) changes with them.
 */
import { createHash } from 'node:crypto';
import { customKindSchema, customListSchema, customSchemaName, REF } from './crd.ts';
import { openApiData, type Schema } from './data.ts';
import { COMMON_SCHEMAS, PathBuilder, type PathResource, SUBRESOURCE_KINDS } from './paths.ts';

export type { Schema } from './data.ts';

/** A served resource, as the OpenAPI documents need it. */
export interface OpenApiResource {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural, lower case. */
  resource: string;
  kind: string;
  namespaced: boolean;
  /** Subresource names: status, scale, log, exec, attach, portforward, proxy, binding, eviction, token, ... */
  subresources: readonly string[];
  /** Verbs on the main resource; default all of create, delete, deletecollection, get, list, patch, update, watch. */
  verbs?: readonly string[];
  /** Default `<kind>List`. */
  listKind?: string;
  /** A custom resource (from a CustomResourceDefinition): no strategic merge patch; schema from `schema`. */
  custom?: boolean;
  /**
   * The CRD version's `openAPIV3Schema`. When set (or when the kind is not a built-in one) the kind's
   * schema is made from it (absent: any object), named like Kubernetes names CRD schemas.
   */
  schema?: unknown;
}

/** One built document. */
export interface OpenApiDocument {
  body: Buffer;
  /** Upper-case hex SHA-512 of the body, as kube-apiserver's hash. */
  etag: string;
}

export interface OpenApiServiceOptions {
  /** `info.version` of the documents. */
  version?: string;
}

const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** `api/v1` for the core group, `apis/<group>/<version>` otherwise. */
export function groupPathOf(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** Serves the OpenAPI v3 index and documents for whatever resources `getResources` returns at the time. */
export class OpenApiService {
  readonly #getResources: () => readonly OpenApiResource[];
  readonly #version: string;
  readonly #cache = new Map<string, { signature: string; doc: OpenApiDocument }>();
  #paths: PathBuilder | undefined;
  #byGvk: Map<string, string> | undefined;
  readonly #refs = new Map<string, string[]>();

  constructor(getResources: () => readonly OpenApiResource[], options: OpenApiServiceOptions = {}) {
    this.#getResources = getResources;
    this.#version = options.version ?? 'v1.35.0';
  }

  /** The body of `/openapi/v3`: every served group-version with the URL (and hash) of its document. */
  v3Index(): { paths: Record<string, { serverRelativeURL: string }> } {
    const byGroupPath = this.#groupResources();
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const groupPath of [...byGroupPath.keys()].sort()) {
      const doc = this.#document(groupPath, byGroupPath.get(groupPath) ?? []);
      paths[groupPath] = { serverRelativeURL: `/openapi/v3/${groupPath}?hash=${doc.etag}` };
    }
    return { paths };
  }

  /** The document of one group-version (`api/v1`, `apis/apps/v1`), or null when it is not served. */
  v3Document(groupPath: string): OpenApiDocument | null {
    const resources = this.#groupResources().get(groupPath);
    return resources ? this.#document(groupPath, resources) : null;
  }

  #groupResources(): Map<string, OpenApiResource[]> {
    const out = new Map<string, OpenApiResource[]>();
    for (const r of this.#getResources()) {
      const key = groupPathOf(r.group, r.version);
      let list = out.get(key);
      if (!list) {
        list = [];
        out.set(key, list);
      }
      list.push(r);
    }
    return out;
  }

  #document(groupPath: string, resources: OpenApiResource[]): OpenApiDocument {
    const sorted = [...resources].sort((a, b) =>
      a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0,
    );
    const signature = JSON.stringify(sorted);
    const cached = this.#cache.get(groupPath);
    if (cached && cached.signature === signature) return cached.doc;
    const body = Buffer.from(JSON.stringify(this.#build(sorted)));
    const doc = { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
    this.#cache.set(groupPath, { signature, doc });
    return doc;
  }

  #build(resources: OpenApiResource[]): object {
    const data = openApiData();
    this.#paths ??= new PathBuilder(data.parameters);
    const custom = new Map<string, Schema>();
    const roots = new Set<string>(COMMON_SCHEMAS);
    const paths: Record<string, unknown> = {};

    for (const r of resources) {
      const gvk = { group: r.group, version: r.version, kind: r.kind };
      const listKind = r.listKind ?? `${r.kind}List`;
      let schema = !r.custom && r.schema === undefined ? this.#builtin(gvk) : undefined;
      let listSchema = schema ? this.#builtin({ ...gvk, kind: listKind }) : undefined;
      if (!schema) {
        schema = customSchemaName(gvk);
        custom.set(schema, customKindSchema(gvk, r.schema));
      }
      if (!listSchema) {
        listSchema = customSchemaName({ ...gvk, kind: listKind });
        custom.set(listSchema, customListSchema(gvk, listKind, schema, r.resource));
      }
      roots.add(schema);
      roots.add(listSchema);
      for (const sub of r.subresources) {
        const special = SUBRESOURCE_KINDS[sub];
        if (special && data.schemas[special.schema]) roots.add(special.schema);
      }
      const subresources = r.subresources.filter(
        (s) => SUBRESOURCE_KINDS[s] === undefined || data.schemas[SUBRESOURCE_KINDS[s].schema],
      );
      const pr: PathResource = {
        group: r.group,
        version: r.version,
        resource: r.resource,
        kind: r.kind,
        namespaced: r.namespaced,
        subresources,
        verbs: r.verbs ?? DEFAULT_VERBS,
        schema,
        listSchema,
        custom: r.custom ?? r.schema !== undefined,
      };
      Object.assign(paths, this.#paths.build(pr));
    }

    const schemas: Record<string, Schema> = {};
    for (const name of [...this.#closure(roots, custom)].sort()) {
      const s = custom.get(name) ?? data.schemas[name];
      if (s) schemas[name] = s;
    }
    const sortedPaths: Record<string, unknown> = {};
    for (const p of Object.keys(paths).sort()) sortedPaths[p] = paths[p];
    return {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: this.#version },
      paths: sortedPaths,
      components: {
        schemas,
        securitySchemes: {
          BearerToken: {
            type: 'apiKey',
            description: 'Bearer Token authentication',
            name: 'authorization',
            in: 'header',
          },
        },
      },
      security: [{ BearerToken: [] }],
    };
  }

  /** The bundled schema of a built-in kind, by its group-version-kind. */
  #builtin(gvk: { group: string; version: string; kind: string }): string | undefined {
    if (!this.#byGvk) {
      this.#byGvk = new Map();
      for (const [name, s] of Object.entries(openApiData().schemas)) {
        const gvks = s['x-kubernetes-group-version-kind'];
        if (!Array.isArray(gvks) || gvks.length !== 1) continue; // DeleteOptions, WatchEvent: many
        const g = gvks[0] as { group: string; version: string; kind: string };
        this.#byGvk.set(`${g.group}/${g.version}/${g.kind}`, name);
      }
    }
    return this.#byGvk.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
  }

  /** The names reachable from `roots` through references. */
  #closure(roots: Iterable<string>, custom: Map<string, Schema>): Set<string> {
    const data = openApiData();
    const seen = new Set<string>();
    const queue = [...roots];
    while (queue.length > 0) {
      const name = queue.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const c = custom.get(name);
      const refs = c ? refsOf(c) : this.#refsOfBundled(name, data.schemas[name]);
      for (const ref of refs) if (!seen.has(ref)) queue.push(ref);
    }
    return seen;
  }

  #refsOfBundled(name: string, schema: Schema | undefined): string[] {
    let refs = this.#refs.get(name);
    if (!refs) {
      refs = schema ? refsOf(schema) : [];
      this.#refs.set(name, refs);
    }
    return refs;
  }
}

/** The component names a schema refers to. */
export function refsOf(schema: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith(REF)) out.add(x.slice(REF.length));
        else if (!k.startsWith('x-')) walk(x);
      }
    }
  };
  walk(schema);
  return [...out];
}
