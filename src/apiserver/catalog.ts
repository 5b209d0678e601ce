/**
 * The catalog of served resources: built-in ones registered at start, custom ones added and removed
 * as CustomResourceDefinitions come and go. Lookups serve URL routing, discovery and kubectl's
 * short names.
 */
import type { ResourceDef } from './resource.ts';

export interface GroupVersion {
  group: string;
  version: string;
}

export class Catalog {
  /** group → version → resource → def */
  readonly #byGvr = new Map<string, Map<string, Map<string, ResourceDef>>>();
  /** group → versions in preference order */
  readonly #versions = new Map<string, string[]>();
  #generation = 0;
  readonly #listeners = new Set<() => void>();

  /** Adds (or replaces) a resource. `preferred` puts its version first among the group's versions. */
  add(def: ResourceDef, preferred = false): void {
    let versions = this.#byGvr.get(def.group);
    if (!versions) {
      versions = new Map();
      this.#byGvr.set(def.group, versions);
    }
    let resources = versions.get(def.version);
    if (!resources) {
      resources = new Map();
      versions.set(def.version, resources);
    }
    resources.set(def.resource, def);
    const order = this.#versions.get(def.group) ?? [];
    if (!order.includes(def.version)) {
      if (preferred) order.unshift(def.version);
      else order.push(def.version);
    }
    this.#versions.set(def.group, order);
    this.#changed();
  }

  /** Removes a resource from every version of its group, dropping emptied versions and groups. */
  remove(group: string, resource: string): void {
    const versions = this.#byGvr.get(group);
    if (!versions) return;
    for (const [version, resources] of versions) {
      resources.delete(resource);
      if (resources.size === 0) {
        versions.delete(version);
        this.#versions.set(
          group,
          (this.#versions.get(group) ?? []).filter((v) => v !== version),
        );
      }
    }
    if (versions.size === 0) {
      this.#byGvr.delete(group);
      this.#versions.delete(group);
    }
    this.#changed();
  }

  /** Sets the order of a group's versions (first = preferred). Unknown versions are ignored. */
  setVersionOrder(group: string, order: string[]): void {
    const known = this.#versions.get(group) ?? [];
    this.#versions.set(group, [
      ...order.filter((v) => known.includes(v)),
      ...known.filter((v) => !order.includes(v)),
    ]);
    this.#changed();
  }

  get(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.#byGvr.get(group)?.get(version)?.get(resource);
  }

  /** Whether group/version is served. */
  hasVersion(group: string, version: string): boolean {
    return this.#byGvr.get(group)?.has(version) ?? false;
  }

  /** The groups, core ('') first, then in registration order. */
  groups(): string[] {
    return [...this.#byGvr.keys()];
  }

  /** A group's versions, preferred first. */
  versions(group: string): string[] {
    return [...(this.#versions.get(group) ?? [])];
  }

  /** The resources of one group/version, in registration order. */
  resources(group: string, version: string): ResourceDef[] {
    return [...(this.#byGvr.get(group)?.get(version)?.values() ?? [])];
  }

  /** Every served resource def, in every version. */
  all(): ResourceDef[] {
    const out: ResourceDef[] = [];
    for (const versions of this.#byGvr.values()) for (const r of versions.values()) out.push(...r.values());
    return out;
  }

  /** The def of a kind in its group's preferred version that serves it. */
  byKind(group: string, kind: string): ResourceDef | undefined {
    for (const v of this.versions(group)) {
      for (const def of this.resources(group, v)) if (def.kind === kind) return def;
    }
    return undefined;
  }

  /** Bumped on every change; discovery documents are cached per generation. */
  get generation(): number {
    return this.#generation;
  }

  /** Calls `fn` after every change. Returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    this.#generation++;
    for (const fn of this.#listeners) fn();
  }
}
