/**
 * API discovery for the controllers that act on every kind (the garbage collector and the namespace
 * controller), as client-go's discovery client: GET /api, /api/v1, /apis and /apis/{group}/{version},
 * keeping each group's preferred version (ServerPreferredResources) and dropping subresources.
 *
 * The RestClient has no raw GET, so {@link HttpDiscovery} makes its own requests on the same kind
 * of transport (HTTPS, or the API server's in-process loopback); {@link StaticDiscovery} is the fake
 * for tests.
 */

import type { ClientConnection } from '../../client/rest.ts';
import { errorFromResponse } from '../../client/rest.ts';
import { type Transport, transportFor } from '../../client/transport.ts';
import type { ResourceRef } from '../../client/types.ts';

/** A served resource and the verbs it supports. */
export interface DiscoveredResource extends ResourceRef {
  verbs: string[];
}

/** What one discovery pass found. */
export interface DiscoveryResult {
  resources: DiscoveredResource[];
  /** groupVersion → why it could not be read (a partial result, like client-go's ErrGroupDiscoveryFailed). */
  failed: Map<string, Error>;
}

/** Finds the resources the API server serves. */
export interface Discovery {
  /**
   * Every resource (no subresources) at its group's preferred version. Fails only when nothing could
   * be read at all; groups that failed are listed in `failed`.
   */
  preferredResources(signal?: AbortSignal): Promise<DiscoveryResult>;
}

interface ApiResourceList {
  resources?: { name: string; namespaced: boolean; kind: string; verbs?: string[] }[];
}

interface ApiGroupList {
  groups?: { name: string; preferredVersion?: { version: string }; versions?: { version: string }[] }[];
}

/** Discovery over HTTP with a client's connection settings (HTTPS config or loopback connection). */
export class HttpDiscovery implements Discovery {
  readonly #transport: Transport;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(config: ClientConnection, opts: { timeoutMs?: number; userAgent?: string } = {}) {
    this.#transport = transportFor(config);
    this.#headers = {
      Accept: 'application/json',
      'User-Agent': opts.userAgent ?? 'skiff-discovery',
      ...this.#transport.headers,
    };
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  close(): void {
    this.#transport.close();
  }

  async preferredResources(signal?: AbortSignal): Promise<DiscoveryResult> {
    const groups = (await this.#get('/apis', signal)) as ApiGroupList;
    const versions: { group: string; version: string; path: string }[] = [
      { group: '', version: 'v1', path: '/api/v1' },
    ];
    for (const g of groups.groups ?? []) {
      const v = g.preferredVersion?.version ?? g.versions?.[0]?.version;
      if (v) versions.push({ group: g.name, version: v, path: `/apis/${g.name}/${v}` });
    }
    const failed = new Map<string, Error>();
    const lists = await Promise.all(
      versions.map(async (gv) => {
        try {
          return { gv, list: (await this.#get(gv.path, signal)) as ApiResourceList };
        } catch (err) {
          failed.set(gv.group ? `${gv.group}/${gv.version}` : gv.version, err as Error);
          return { gv, list: { resources: [] } };
        }
      }),
    );
    const resources: DiscoveredResource[] = [];
    for (const { gv, list } of lists) {
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue;
        resources.push({
          group: gv.group,
          version: gv.version,
          resource: r.name,
          kind: r.kind,
          namespaced: r.namespaced,
          verbs: r.verbs ?? [],
        });
      }
    }
    if (failed.has('v1') && resources.length === 0) throw failed.get('v1');
    return { resources, failed };
  }

  #get(path: string, signal?: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = this.#transport.request({ method: 'GET', path, headers: this.#headers, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) return reject(errorFromResponse(code, text));
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`GET ${path}: the server sent a body that is not JSON`));
          }
        });
      });
      req.on('error', reject);
      req.setTimeout(this.#timeoutMs, () => req.destroy(new Error(`GET ${path}: no answer in time`)));
      req.end();
    });
  }
}

/** A fixed answer (tests; or a cluster whose kinds are known up front). */
export class StaticDiscovery implements Discovery {
  resources: DiscoveredResource[];
  failed = new Map<string, Error>();

  constructor(resources: DiscoveredResource[]) {
    this.resources = resources;
  }

  async preferredResources(): Promise<DiscoveryResult> {
    return { resources: [...this.resources], failed: new Map(this.failed) };
  }
}

/** A discovered resource with every verb a built-in kind serves. */
export function withAllVerbs(ref: ResourceRef): DiscoveredResource {
  return {
    ...ref,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  };
}

/** Whether `r` supports every one of `verbs`. */
export function supports(r: DiscoveredResource, ...verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

/** Maps an owner reference's apiVersion and kind to a served resource (a small RESTMapper). */
export class KindMapper {
  readonly #byGroupKind = new Map<string, DiscoveredResource>();

  constructor(resources: readonly DiscoveredResource[] = []) {
    this.update(resources);
  }

  update(resources: readonly DiscoveredResource[]): void {
    for (const r of resources) this.#byGroupKind.set(`${r.group}/${r.kind}`, r);
  }

  /** The resource serving `kind` of `apiVersion`'s group, or undefined when none is known. */
  lookup(apiVersion: string, kind: string): DiscoveredResource | undefined {
    return this.#byGroupKind.get(`${groupOf(apiVersion)}/${kind}`);
  }
}

/** The group of an apiVersion: '' for `v1`, `apps` for `apps/v1`. */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}
