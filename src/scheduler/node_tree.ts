/**
 * Node names grouped by zone (cache's nodeTree). `list()` interleaves zones (one node from each zone
 * in turn) so that scanning a prefix of the list, as the scheduler does when it stops after enough
 * feasible nodes, still spreads over zones.
 */
import { LABEL_REGION, LABEL_ZONE, type Node, nodeName } from './types.ts';

export function zoneKey(node: Node): string {
  const labels = node.metadata.labels ?? {};
  const region = labels[LABEL_REGION] ?? '';
  const zone = labels[LABEL_ZONE] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`;
}

export class NodeTree {
  readonly #zones: string[] = [];
  readonly #tree = new Map<string, string[]>();
  #numNodes = 0;
  /** Bumped on every change, so snapshots know to rebuild their list. */
  generation = 0;

  get numNodes(): number {
    return this.#numNodes;
  }

  add(node: Node): void {
    const zone = zoneKey(node);
    const name = nodeName(node);
    let names = this.#tree.get(zone);
    if (!names) {
      names = [];
      this.#tree.set(zone, names);
      this.#zones.push(zone);
    }
    if (names.includes(name)) return;
    names.push(name);
    this.#numNodes++;
    this.generation++;
  }

  remove(node: Node): void {
    const zone = zoneKey(node);
    const names = this.#tree.get(zone);
    const i = names?.indexOf(nodeName(node)) ?? -1;
    if (!names || i < 0) return;
    names.splice(i, 1);
    if (names.length === 0) {
      this.#tree.delete(zone);
      this.#zones.splice(this.#zones.indexOf(zone), 1);
    }
    this.#numNodes--;
    this.generation++;
  }

  /** Re-files the node when its zone changed. */
  update(oldNode: Node, newNode: Node): void {
    if (zoneKey(oldNode) === zoneKey(newNode)) return;
    this.remove(oldNode);
    this.add(newNode);
  }

  list(): string[] {
    const out: string[] = [];
    for (let i = 0; out.length < this.#numNodes; i++) {
      let any = false;
      for (const zone of this.#zones) {
        const names = this.#tree.get(zone)!;
        if (i < names.length) {
          out.push(names[i]!);
          any = true;
        }
      }
      if (!any) break;
    }
    return out;
  }
}
