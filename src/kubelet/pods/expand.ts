/**
 * `$(VAR)` expansion in command, args and env values, exactly as k8s.io/kubernetes/third_party/
 * forked/golang/expansion: `$(NAME)` becomes the variable's value when it is defined and stays as
 * written when it is not; `$$` is an escaped `$`; a `$` followed by anything else is kept.
 */
import type { KeyValue } from '../cri/types.ts';

/** Expands `input` with `lookup` (undefined: not defined). */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === '$') {
      out += '$';
      cursor++;
      checkpoint = cursor + 1;
    } else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) {
        // No closing paren: kept as written.
        out += input.slice(cursor, cursor + 2);
        cursor++;
        checkpoint = cursor + 1;
        continue;
      }
      const name = input.slice(cursor + 2, close);
      const v = lookup(name);
      out += v !== undefined ? v : `$(${name})`;
      cursor = close;
      checkpoint = cursor + 1;
    } else {
      out += input.slice(cursor, cursor + 2);
      cursor++;
      checkpoint = cursor + 1;
    }
  }
  return out + input.slice(checkpoint);
}

/** A lookup over a container's resolved env (the last definition of a name wins). */
export function envLookup(envs: KeyValue[]): (name: string) => string | undefined {
  const m = new Map<string, string>();
  for (const e of envs) m.set(e.key, e.value);
  return (name) => m.get(name);
}

/** Expands every element of a command or args list. */
export function expandAll(list: string[] | undefined, envs: KeyValue[]): string[] | undefined {
  if (!list) return undefined;
  const lookup = envLookup(envs);
  return list.map((s) => expand(s, lookup));
}
