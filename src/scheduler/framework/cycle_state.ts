/**
 * CycleState: data plugins share within one scheduling cycle (framework.CycleState). A plugin
 * writes what it precomputes in PreFilter/PreScore under its own key and reads it back in
 * Filter/Score. Preemption clones the state to simulate removing pods, so every value must clone
 * itself deeply enough that the PreFilter AddPod/RemovePod extensions on the copy leave the
 * original untouched (immutable values may return themselves).
 */

export interface StateData {
  clone(): StateData;
}

export class CycleState {
  readonly #data = new Map<string, StateData>();
  #version = 0;
  /** Plugins whose PreFilter returned Skip: their Filter is not run this cycle. */
  skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore returned Skip: their Score is not run this cycle. */
  skipScorePlugins = new Set<string>();

  read<T extends StateData>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.#data.set(key, value);
    this.#version++;
  }

  delete(key: string): void {
    this.#data.delete(key);
    this.#version++;
  }

  /** Bumped by every write and delete (StateReader's check that a cached read is current). */
  get version(): number {
    return this.#version;
  }

  /** A copy whose values are cloned (for preemption's what-if runs). */
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.#data) c.#data.set(k, v.clone());
    c.skipFilterPlugins = new Set(this.skipFilterPlugins);
    c.skipScorePlugins = new Set(this.skipScorePlugins);
    return c;
  }
}

/**
 * One key of the cycle state, read through a one-entry cache: Filter and Score read their
 * PreFilter/PreScore data once per node, from the same state, so the Map lookup is done once per
 * cycle. Any write or delete on the state (version) or another state invalidates it.
 */
export class StateReader<T extends StateData> {
  readonly key: string;
  #state: CycleState | undefined;
  #version = -1;
  #value: T | undefined;

  constructor(key: string) {
    this.key = key;
  }

  read(state: CycleState): T | undefined {
    if (state !== this.#state || state.version !== this.#version) {
      this.#value = state.read<T>(this.key);
      this.#state = state;
      this.#version = state.version;
    }
    return this.#value;
  }
}
