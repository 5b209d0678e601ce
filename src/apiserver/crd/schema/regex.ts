/**
 * Schema `pattern`s are Go (RE2) regular expressions. This compiles one into a JS RegExp with Go's
 * meaning for the common syntax (leading `(?i)`-style flags, `\A`, `\z`, `\pL`, `(?P<name>…)`, POSIX
 * classes like `[[:alpha:]]`), and rejects what RE2 rejects (lookaround, backreferences) with Go's
 * `error parsing regexp: …` wording.
 */

export type CompiledRegexp = { ok: true; re: RegExp } | { ok: false; error: string };

const cache = new Map<string, CompiledRegexp>();

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Characters a `\` may precede in a JS RegExp with the `u` flag. */
const U_ESCAPABLE = new Set('^$\\.*+?()[]{}|/');

function fail(msg: string): CompiledRegexp {
  return { ok: false, error: `error parsing regexp: ${msg}` };
}

/** Compiles a Go regular expression (cached). */
export function compileGoRegexp(pattern: string): CompiledRegexp {
  let hit = cache.get(pattern);
  if (!hit) {
    hit = translate(pattern);
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, hit);
  }
  return hit;
}

function translate(pattern: string): CompiledRegexp {
  let src = pattern;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    for (const f of lead[1] ?? '') if (f !== 'U' && !flags.includes(f)) flags += f;
    src = src.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  let unicode = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as string;
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined) return fail('trailing backslash at end of expression: ``');
      i++;
      if (/[1-9]/.test(n)) return fail(`invalid escape sequence: \`\\${n}\``);
      if (n === 'A' && !inClass) out += '^';
      else if (n === 'z' && !inClass) out += '$';
      else if (n === 'p' || n === 'P') {
        unicode = true;
        if (src[i + 1] === '{') {
          const end = src.indexOf('}', i);
          if (end < 0) return fail(`invalid character class range: \`\\${n}${src.slice(i + 1)}\``);
          out += `\\${n}${src.slice(i + 1, end + 1)}`;
          i = end;
        } else {
          out += `\\${n}{${src[i + 1] ?? ''}}`;
          i++;
        }
      } else if (/[a-zA-Z0-9]/.test(n) || U_ESCAPABLE.has(n) || (inClass && n === '-')) out += `\\${n}`;
      else out += `\\x${n.charCodeAt(0).toString(16).padStart(2, '0')}`;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        const name = end > 0 ? src.slice(i + 2, end) : '';
        const neg = name.startsWith('^');
        const cls = POSIX[neg ? name.slice(1) : name];
        if (cls === undefined) return fail(`invalid character class range: \`${src.slice(i, end + 2)}\``);
        if (neg) return fail(`invalid character class range: \`${src.slice(i, end + 2)}\``);
        out += cls;
        i = end + 1;
        continue;
      }
      if (c === '[') {
        out += '\\[';
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2);
      for (const bad of ['=', '!', '<=', '<!']) {
        if (rest.startsWith(bad)) return fail(`invalid or unsupported Perl syntax: \`(?${bad}\``);
      }
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
    }
    out += c;
  }
  if (inClass) return fail(`missing closing ]: \`${src.slice(src.lastIndexOf('['))}\``);
  if (unicode) flags += 'u';
  try {
    return { ok: true, re: new RegExp(out, flags) };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/Nothing to repeat/.test(msg)) {
      const op = /(?:^|[(|])([*+?]|\{\d+(?:,\d*)?\})/.exec(pattern)?.[1] ?? '';
      return fail(`missing argument to repetition operator: \`${op}\``);
    }
    if (/Unterminated group/.test(msg)) return fail(`missing closing ): \`${pattern}\``);
    if (/Unmatched '\)'/.test(msg)) return fail(`unexpected ): \`${pattern}\``);
    return fail(msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, ''));
  }
}
