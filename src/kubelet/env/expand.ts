/**
 * `$(VAR)` expansion as Kubernetes does it for env values, command, args and subPathExpr
 * (third_party/forked/golang/expansion): `$(NAME)` becomes the mapped value, `$$` a literal `$`, an
 * unknown or unclosed reference is left as written, any other `$x` stays as is.
 */

/** Looks a variable up; returns undefined when it is not defined. */
export type Lookup = (name: string) => string | undefined;

/** MappingFuncFor: the first context that defines `name` wins; otherwise `$(name)` is kept. */
export function mappingFor(...contexts: ReadonlyMap<string, string>[]): (name: string) => string {
  return (name) => {
    for (const ctx of contexts) {
      const v = ctx.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

/** expansion.Expand */
export function expand(input: string, mapping: (name: string) => string): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let read: string;
    let isVar = false;
    let advance = 1;
    if (rest[0] === '$') {
      read = '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close >= 0) {
        read = rest.slice(1, close);
        isVar = true;
        advance = close + 1;
      } else {
        read = '$(';
      }
    } else {
      read = `$${rest[0]}`;
    }
    out += isVar ? mapping(read) : read;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
