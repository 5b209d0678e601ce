/**
 * String helpers with Go's semantics, for the places where skiff must order or compare as
 * Kubernetes does.
 */

/** Byte-wise (UTF-8) comparison of two strings, as Go's strings.Compare. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 code units order as code points do, except surrogates against U+E000..U+FFFF: compare
  // units up to the first difference, and code points only when that difference involves those.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca < 0xd800 || cb < 0xd800) return ca < cb ? -1 : 1;
    return compareCodePoints(a, b);
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** compareStrings by code points, for strings with surrogates. */
function compareCodePoints(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  let i = 0;
  let j = 0;
  while (i < la && j < lb) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(j) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  if (i < la) return 1;
  if (j < lb) return -1;
  return 0;
}
