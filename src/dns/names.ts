/**
 * Domain-name helpers. Names inside the DNS code are kept as dns-packet gives them: labels joined by
 * dots, no trailing dot. Comparisons are case-insensitive (RFC 4343), so lookups use lower case while
 * answers keep the case the client asked with.
 */
import { isIP } from 'node:net';
import { compressIpv6 } from '../util/ipv6.ts';

/** `name` lower-cased and without a trailing dot. */
export function canonical(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/**
 * The part of `name` before `zone` (both canonical), '' when `name` is the zone itself, or null when
 * `name` is not inside `zone`.
 */
export function trimZone(name: string, zone: string): string | null {
  if (name === zone) return '';
  if (name.length > zone.length && name.endsWith(zone) && name[name.length - zone.length - 1] === '.') {
    return name.slice(0, name.length - zone.length - 1);
  }
  return null;
}

/** The labels of a (canonical) name; [] for the root. */
export function labels(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/**
 * The address a reverse name (`4.3.2.1.in-addr.arpa`, nibble `ip6.arpa`) stands for, or null when
 * the name is not a complete one.
 */
export function addressFromReverse(name: string): string | null {
  const v4 = trimZone(name, 'in-addr.arpa');
  if (v4 !== null) {
    const parts = labels(v4);
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
    return parts.reverse().map(Number).join('.');
  }
  const v6 = trimZone(name, 'ip6.arpa');
  if (v6 !== null) {
    const nibbles = labels(v6);
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return null;
    const hex = nibbles.reverse().join('');
    const groups = hex.match(/.{4}/g) ?? [];
    return normalizeIp(groups.join(':'));
  }
  return null;
}

/** The reverse name of an IPv4 or IPv6 address (canonical, no trailing dot). */
export function reverseName(ip: string): string {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${expandIpv6(ip).replaceAll(':', '').split('').reverse().join('.')}.ip6.arpa`;
}

/** An IPv6 address with all eight groups written out in four hex digits. */
export function expandIpv6(ip: string): string {
  const [head = '', tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

/** The usual short form of an IP address (IPv6 compressed, lower case); IPv4 unchanged. */
export function normalizeIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = expandIpv6(ip)
    .split(':')
    .map((g) => g.replace(/^0+(?=.)/, ''));
  return compressIpv6(groups);
}

/**
 * The endpoint label CoreDNS derives when an endpoint has no hostname: its address with dots (IPv4)
 * or colons (IPv6) replaced by dashes.
 */
export function dashedIp(ip: string): string {
  return ip.includes('.') ? ip.replaceAll('.', '-') : ip.replaceAll(':', '-');
}

/**
 * The address in a `pods insecure` pod label (`10-42-0-5`, `fd00--5`), as CoreDNS reads it: three
 * dashes and no double dash mean IPv4, anything else IPv6. Null when it is no address.
 */
export function ipFromPodLabel(label: string): string | null {
  const dashes = label.split('-').length - 1;
  const ip = dashes === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  return isIP(ip) ? normalizeIp(ip) : null;
}
