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
  /** Plugins whose PreFilter returned Skip: their Filter is not run this cycle. */
  skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore returned Skip: their Score is not run this cycle. */
  skipScorePlugins = new Set<string>();

  read<T extends StateData>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.#data.set(key, value);
  }

  delete(key: string): void {
    this.#data.delete(key);
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
