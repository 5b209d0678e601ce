/**
 * IP addresses and CIDRs as Kubernetes reads them (k8s.io/utils/net ParseIPSloppy and
 * ParseCIDRSloppy: IPv4 octets may have leading zeros, read as decimal; no IPv6 zones), and the
 * validators built on them (k8s.io/apimachinery/pkg/util/validation/ip.go and
 * ValidateNonSpecialIP).
 */
import type { FieldError, FieldPath } from '../../../api/errors.ts';
import { fe } from './json.ts';

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (s.includes('%')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(Number.parseInt(p, 16));
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  const bytes: number[] = [];
  for (const g of all) bytes.push(g >> 8, g & 0xff);
  return bytes;
}

/** A parsed address: 16 bytes (IPv4 as ::ffff:a.b.c.d) and whether it was written as IPv6. */
export interface IP {
  bytes: number[];
  v6: boolean;
}

/** ParseIPSloppy, or undefined. */
export function parseIP(s: string): IP | undefined {
  if (s.includes(':')) {
    const b = parseIPv6(s);
    return b ? { bytes: b, v6: true } : undefined;
  }
  const v4 = parseIPv4(s);
  return v4 ? { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4], v6: false } : undefined;
}

/** The 4 bytes of an IPv4 (or IPv4-mapped) address, else undefined (net.IP.To4). */
export function to4(ip: IP): number[] | undefined {
  const b = ip.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  return b[10] === 0xff && b[11] === 0xff ? b.slice(12) : undefined;
}

/** netutils.IsIPv6String: a valid IP that is not IPv4. */
export function isIPv6String(s: string): boolean {
  const ip = parseIP(s);
  return ip !== undefined && to4(ip) === undefined;
}

/** ParseCIDRSloppy: "ip/prefix", or undefined. */
export function parseCIDR(s: string): { ip: IP; prefix: number } | undefined {
  const i = s.indexOf('/');
  if (i < 0) return undefined;
  const ip = parseIP(s.slice(0, i));
  const p = s.slice(i + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(p)) return undefined;
  const prefix = Number(p);
  const max = ip.v6 ? 128 : 32;
  return prefix <= max ? { ip, prefix } : undefined;
}

/** IsValidIP */
export function validateIP(value: string, path: FieldPath): FieldError[] {
  return parseIP(value)
    ? []
    : [fe.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

/** IsValidCIDR */
export function validateCIDR(value: string, path: FieldPath): FieldError[] {
  return parseCIDR(value)
    ? []
    : [fe.invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** ValidateNonSpecialIP: not unspecified, loopback or link-local. */
export function validateNonSpecialIP(value: string, path: FieldPath): FieldError[] {
  const ip = parseIP(value);
  if (!ip) return [fe.invalid(path, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const v4 = to4(ip);
  const b = ip.bytes;
  const unspecified = v4 ? v4.every((x) => x === 0) : b.every((x) => x === 0);
  const loopback = v4 ? v4[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
  const linkLocalUnicast = v4
    ? v4[0] === 169 && v4[1] === 254
    : b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80;
  const linkLocalMulticast = v4
    ? v4[0] === 224 && v4[1] === 0 && v4[2] === 0
    : b[0] === 0xff && ((b[1] as number) & 0x0f) === 0x02;
  if (unspecified) errs.push(fe.invalid(path, value, `may not be unspecified (${value})`));
  if (loopback) errs.push(fe.invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (linkLocalUnicast)
    errs.push(fe.invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (linkLocalMulticast)
    errs.push(
      fe.invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'),
    );
  return errs;
}

/** IsDualStackIPStrings: exactly one IPv4 and one IPv6 among (at most two) valid addresses. */
export function isDualStack(ips: readonly string[]): boolean {
  let v4 = 0;
  let v6 = 0;
  for (const s of ips) {
    const ip = parseIP(s);
    if (!ip) return false;
    if (to4(ip)) v4++;
    else v6++;
  }
  return v4 > 0 && v6 > 0;
}

/** IsDualStackCIDRStrings */
export function isDualStackCIDRs(cidrs: readonly string[]): boolean {
  let v4 = 0;
  let v6 = 0;
  for (const s of cidrs) {
    const c = parseCIDR(s);
    if (!c) return false;
    if (to4(c.ip)) v4++;
    else v6++;
  }
  return v4 > 0 && v6 > 0;
}
