/**
 * Base64 as Go's encoding/json decodes a []byte field (base64.StdEncoding: padded, "\r" and "\n"
 * ignored), with the error text Go gives ("illegal base64 data at input byte N").
 */

const alphabet = /^[A-Za-z0-9+/]$/;

/** The decoded bytes, or an error message. */
export function decodeBase64(s: string): { bytes: Buffer } | { error: string } {
  const chars: [string, number][] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\r' || c === '\n') continue;
    chars.push([c, i]);
  }
  const bad = (i: number) => ({ error: `illegal base64 data at input byte ${i}` });
  let padStart = chars.length;
  for (let j = 0; j < chars.length; j++) {
    const [c, i] = chars[j] as [string, number];
    if (c === '=') {
      padStart = j;
      break;
    }
    if (!alphabet.test(c)) return bad(i);
  }
  const pad = chars.length - padStart;
  for (let j = padStart; j < chars.length; j++) {
    const [c, i] = chars[j] as [string, number];
    if (c !== '=') return bad(i);
  }
  if (pad > 2 || chars.length % 4 !== 0 || (pad > 0 && padStart % 4 < 2)) {
    const quantum = chars.length - (chars.length % 4 || 4);
    const at = chars[Math.max(0, Math.min(quantum, chars.length - 1))];
    return bad(at ? at[1] : 0);
  }
  return { bytes: Buffer.from(chars.map(([c]) => c).join(''), 'base64') };
}
