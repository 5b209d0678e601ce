/**
 * The host's resolvers, read from resolv.conf, as the upstreams cluster DNS forwards to.
 *
 * Loop avoidance: the DNS server runs on the host, so a loopback stub resolver (systemd-resolved's
 * 127.0.0.53, a local dnsmasq) is reachable and normally fine — except when it is this server's own
 * address, which would send every forwarded question back to itself. So: when /etc/resolv.conf
 * lists only loopback resolvers and systemd-resolved's real list (/run/systemd/resolve/resolv.conf)
 * has others, those are used instead (as kubelet and k3s do); a resolver equal to the server's own
 * listening address is always dropped. (At run time the forwarder also catches loops it did not
 * foresee: see forward.ts.)
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

export interface Upstream {
  host: string;
  port: number;
}

/** Parses resolv.conf text (nameserver, search/domain, options; comments with # or ;). */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [word, ...rest] = line.split(/\s+/);
    if (word === 'nameserver' && rest[0]) {
      // A scoped IPv6 address (fe80::1%eth0) keeps its zone for the socket.
      const host = rest[0];
      if (isIP(host.split('%')[0] ?? '')) out.nameservers.push(host);
    } else if (word === 'search' || word === 'domain') out.search = rest;
    else if (word === 'options') out.options.push(...rest);
  }
  return out;
}

function readIfExists(path: string): ResolvConf | null {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1';
}

export interface UpstreamOptions {
  /** Default /etc/resolv.conf. */
  resolvConf?: string;
  /** Default /run/systemd/resolve/resolv.conf. */
  systemdResolvConf?: string;
  /** This server's own listening address and port: never an upstream. */
  self?: { host: string; port: number };
}

/** The upstream resolvers (port 53), following the rules above; [] when there is none. */
export function hostUpstreams(o: UpstreamOptions = {}): Upstream[] {
  const main = readIfExists(o.resolvConf ?? '/etc/resolv.conf')?.nameservers ?? [];
  let servers = main;
  if (main.length > 0 && main.every(isLoopback)) {
    const real = (
      readIfExists(o.systemdResolvConf ?? '/run/systemd/resolve/resolv.conf')?.nameservers ?? []
    ).filter((s) => !isLoopback(s));
    if (real.length) servers = real;
  }
  const self = o.self;
  const isSelf = (host: string) =>
    self !== undefined &&
    self.port === 53 &&
    (host === self.host || ((self.host === '0.0.0.0' || self.host === '::') && isLoopback(host)));
  return [...new Set(servers)].filter((h) => !isSelf(h)).map((host) => ({ host, port: 53 }));
}

/** `host:port` or `[v6]:port` (port 53 when absent) as an upstream. */
export function parseUpstream(text: string): Upstream {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (m && isIP(m[1]!)) return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
  if (isIP(text)) return { host: text, port: 53 };
  throw new Error(`invalid upstream resolver ${JSON.stringify(text)}: want IP, IP:PORT or [IPv6]:PORT`);
}
