/**
 * The cluster's PKI, kept in DATA_DIR/tls/ like k3s keeps its own: a CA, the API server's serving
 * certificate, the admin's client certificate (for the kubeconfig), the API server's client
 * certificate for kubelets and the service-account signing key pair; {@link issueCertificate} signs
 * the certificates of joining nodes. {@link ensurePki} creates what is missing on first start and reuses it afterwards.
 *
 * Rules:
 * - The CA (ECDSA P-256, 10 years) is created once and never replaced: every issued certificate and
 *   kubeconfig depends on it. A CA certificate without its key is an error, not a reason to start over.
 * - Leaf certificates (1 year) are re-issued, with the same CA, when missing, unreadable, not matching
 *   their key, not signed by the CA, within 90 days of expiry, or (serving) when the wanted SAN set
 *   differs from the one in the certificate (e.g. a new `--tls-san`).
 * - Every file is written atomically (temp file + rename); keys are mode 0600, certificates 0644.
 */
import 'reflect-metadata'; // @peculiar/x509 (through tsyringe) needs the Reflect metadata API.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  KeyObject,
  X509Certificate as NodeX509Certificate,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { type Clock, systemClock } from '../../util/clock.ts';
import {
  ADMIN_GROUP,
  ADMIN_USER,
  canonicalIp,
  hostSans,
  KUBELET_CLIENT_USER,
  KUBERNETES_SERVICE_NAMES,
  uniqSorted,
} from './names.ts';

export {
  ADMIN_GROUP,
  ADMIN_USER,
  canonicalIp,
  hostSans,
  KUBELET_CLIENT_USER,
  KUBERNETES_SERVICE_NAMES,
  NODES_GROUP,
} from './names.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY = 24 * 60 * 60 * 1000;
const CA_VALIDITY = 3650 * DAY;
const LEAF_VALIDITY = 365 * DAY;
/** Leaf certificates closer than this to expiry are re-issued at startup (as k3s does). */
const RENEW_BEFORE = 90 * DAY;
/** Certificates start this far in the past, so a peer whose clock is a little behind accepts them. */
const BACKDATE = 5 * 60 * 1000;

const EC_KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface PkiOptions {
  /** Extra DNS names for the serving certificate (e.g. from `--tls-san`); IP literals are moved to `ips`. */
  hostnames: string[];
  /** Extra IP addresses for the serving certificate. */
  ips: string[];
  /** Time source for validity periods and renewal decisions. */
  clock?: Clock;
  /** The host's own names and addresses; defaults to {@link hostSans} of this machine. */
  host?: { dnsNames: string[]; ips: string[] };
}

/** A certificate and its private key, as PEM text and as file paths. */
export interface CertKeyPair {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface Pki {
  /** DATA_DIR/tls */
  dir: string;
  ca: CertKeyPair;
  /** The API server's serving certificate, and the SANs it carries (IPs in canonical form). */
  serving: CertKeyPair & { dnsNames: string[]; ips: string[] };
  /** CN=system:admin, O=system:masters: the admin kubeconfig's identity. */
  admin: CertKeyPair;
  /** CN=kube-apiserver-kubelet-client, O=system:masters: how the API server reaches kubelets. */
  kubeletClient: CertKeyPair;
  /** RSA 2048 key pair that signs (private) and verifies (public) service-account tokens. */
  serviceAccount: { privateKey: string; publicKey: string; privateKeyPath: string; publicKeyPath: string };
  /** What this call created or re-issued: any of 'ca', 'serving', 'admin', 'service-account'. */
  issued: string[];
}

/** Paths of the files in DATA_DIR/tls/. */
export function pkiPaths(dataDir: string) {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    caCert: join(dir, 'server-ca.crt'),
    caKey: join(dir, 'server-ca.key'),
    servingCert: join(dir, 'serving-kube-apiserver.crt'),
    servingKey: join(dir, 'serving-kube-apiserver.key'),
    adminCert: join(dir, 'client-admin.crt'),
    adminKey: join(dir, 'client-admin.key'),
    kubeletClientCert: join(dir, 'client-kube-apiserver-kubelet.crt'),
    kubeletClientKey: join(dir, 'client-kube-apiserver-kubelet.key'),
    saKey: join(dir, 'service.key'),
    saPub: join(dir, 'service.pub'),
  };
}

/** The identity a verified client certificate carries: Kubernetes' CN → user, O → groups mapping. */
export interface CertIdentity {
  user: string;
  groups: string[];
}

/**
 * The identity of the peer of a TLS connection accepted by a server configured with
 * `requestCert: true, rejectUnauthorized: false, ca: <cluster CA>`: the client certificate's CN as
 * the user and its O values as groups, or null when the peer sent no certificate, when it was not
 * verified against the server's `ca` (OpenSSL checks the chain, the validity period and the TLS
 * client purpose), when it is not meant for client authentication (an extended key usage without
 * clientAuth; checked again here), or when it has no single CN.
 */
export function verifyClientCert(socket: TLSSocket): CertIdentity | null {
  if (!socket.authorized) return null;
  const peer = socket.getPeerCertificate();
  if (!peer?.raw) return null;
  const eku = peer.ext_key_usage;
  if (eku && eku.length > 0 && !eku.includes(x509.ExtendedKeyUsage.clientAuth)) return null;
  const cn = asList(peer.subject?.CN);
  if (cn.length !== 1 || !cn[0]) return null;
  return { user: cn[0], groups: asList(peer.subject?.O) };
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Creates (first start) or reuses (later starts) the PKI in `dataDir`/tls. */
export async function ensurePki(dataDir: string, opts: PkiOptions): Promise<Pki> {
  const clock = opts.clock ?? systemClock;
  const now = clock.now();
  const p = pkiPaths(dataDir);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const issued: string[] = [];

  // The cluster CA.
  let ca: { cert: string; key: string };
  if (existsSync(p.caCert)) {
    if (!existsSync(p.caKey)) {
      throw new Error(`${p.caCert} exists but its key ${p.caKey} does not; restore it or remove both`);
    }
    ca = { cert: readFileSync(p.caCert, 'utf8'), key: readFileSync(p.caKey, 'utf8') };
    if (!new NodeX509Certificate(ca.cert).checkPrivateKey(createPrivateKey(ca.key))) {
      throw new Error(`${p.caKey} is not the key of ${p.caCert}`);
    }
    chmodSync(p.caKey, 0o600);
  } else {
    ca = await createCa(now);
    writeAtomic(p.caKey, ca.key, 0o600); // the key first: a certificate is only ever written with its key
    writeAtomic(p.caCert, ca.cert, 0o644);
    issued.push('ca');
  }
  const caSigner = await signerFromPem(ca.cert, ca.key);

  // The serving certificate.
  const host = opts.host ?? hostSans();
  const dnsNames = new Set([...host.dnsNames, ...KUBERNETES_SERVICE_NAMES]);
  const ips = new Set(host.ips.map(canonicalIp));
  for (const h of opts.hostnames) {
    const name = h.trim();
    if (!name) continue;
    if (isIP(name)) ips.add(canonicalIp(name));
    else dnsNames.add(checkDnsName(name).toLowerCase());
  }
  for (const ip of opts.ips) {
    if (!isIP(ip.trim())) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
    ips.add(canonicalIp(ip.trim()));
  }
  const wantSans = { dnsNames: uniqSorted(dnsNames), ips: uniqSorted(ips) };
  const servingSubject: x509.JsonName = [{ CN: ['kube-apiserver'] }];
  const serving = await ensureLeaf(p.servingCert, p.servingKey, caSigner, now, issued, 'serving', {
    subject: servingSubject,
    usage: x509.ExtendedKeyUsage.serverAuth,
    sans: wantSans,
  });

  // The admin client certificate.
  const adminSubject: x509.JsonName = [{ O: [ADMIN_GROUP] }, { CN: [ADMIN_USER] }];
  const admin = await ensureLeaf(p.adminCert, p.adminKey, caSigner, now, issued, 'admin', {
    subject: adminSubject,
    usage: x509.ExtendedKeyUsage.clientAuth,
  });

  // The API server's client certificate for kubelets.
  const kubeletClient = await ensureLeaf(
    p.kubeletClientCert,
    p.kubeletClientKey,
    caSigner,
    now,
    issued,
    'kubelet-client',
    {
      subject: [{ O: [ADMIN_GROUP] }, { CN: [KUBELET_CLIENT_USER] }],
      usage: x509.ExtendedKeyUsage.clientAuth,
    },
  );

  // The service-account signing key pair.
  let saKey: string;
  let saPub: string;
  const existingSa = readKey(p.saKey);
  if (existingSa) {
    saKey = readFileSync(p.saKey, 'utf8');
    chmodSync(p.saKey, 0o600);
    saPub = createPublicKey(existingSa).export({ type: 'spki', format: 'pem' }).toString();
    if (!existsSync(p.saPub) || readFileSync(p.saPub, 'utf8') !== saPub) writeAtomic(p.saPub, saPub, 0o644);
  } else {
    const pair = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    saKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    saPub = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeAtomic(p.saKey, saKey, 0o600);
    writeAtomic(p.saPub, saPub, 0o644);
    issued.push('service-account');
  }

  return {
    dir: p.dir,
    ca: { ...ca, certPath: p.caCert, keyPath: p.caKey },
    serving: { ...serving, certPath: p.servingCert, keyPath: p.servingKey, ...wantSans },
    admin: { ...admin, certPath: p.adminCert, keyPath: p.adminKey },
    kubeletClient: { ...kubeletClient, certPath: p.kubeletClientCert, keyPath: p.kubeletClientKey },
    serviceAccount: { privateKey: saKey, publicKey: saPub, privateKeyPath: p.saKey, publicKeyPath: p.saPub },
    issued,
  };
}

/** What {@link issueCertificate} signs: a client or serving certificate with the given names. */
export interface CertificateRequest {
  commonName: string;
  organizations?: string[];
  usage: 'client' | 'server';
  /** Subject alternative names (serving certificates). */
  dnsNames?: string[];
  ips?: string[];
  clock?: Clock;
}

/** Issues a one-year leaf certificate (ECDSA P-256, new key) signed by the cluster CA. */
export async function issueCertificate(
  ca: { cert: string; key: string },
  req: CertificateRequest,
): Promise<{ cert: string; key: string }> {
  const signer = await signerFromPem(ca.cert, ca.key);
  const subject: x509.JsonName = [
    ...(req.organizations?.length ? [{ O: req.organizations }] : []),
    { CN: [req.commonName] },
  ];
  const sans =
    req.dnsNames?.length || req.ips?.length
      ? {
          dnsNames: uniqSorted((req.dnsNames ?? []).map((n) => checkDnsName(n).toLowerCase())),
          ips: uniqSorted((req.ips ?? []).map(canonicalIp)),
        }
      : undefined;
  const usage = req.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  return issueLeaf(signer, (req.clock ?? systemClock).now(), { subject, usage, ...(sans ? { sans } : {}) });
}

interface Signer {
  cert: x509.X509Certificate;
  nodeCert: NodeX509Certificate;
  key: CryptoKey;
}

interface LeafSpec {
  subject: x509.JsonName;
  usage: string;
  sans?: { dnsNames: string[]; ips: string[] };
}

async function ensureLeaf(
  certPath: string,
  keyPath: string,
  ca: Signer,
  now: number,
  issued: string[],
  label: string,
  spec: LeafSpec,
): Promise<{ cert: string; key: string }> {
  const existing = readLeaf(certPath, keyPath);
  if (existing && leafIsCurrent(existing.cert, existing.key, ca, now, spec)) {
    chmodSync(keyPath, 0o600);
    return { cert: existing.cert, key: existing.key };
  }
  const leaf = await issueLeaf(ca, now, spec);
  writeAtomic(keyPath, leaf.key, 0o600);
  writeAtomic(certPath, leaf.cert, 0o644);
  issued.push(label);
  return leaf;
}

function readLeaf(certPath: string, keyPath: string): { cert: string; key: string } | null {
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

function readKey(path: string): KeyObject | null {
  if (!existsSync(path)) return null;
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function leafIsCurrent(certPem: string, keyPem: string, ca: Signer, now: number, spec: LeafSpec): boolean {
  try {
    const nodeCert = new NodeX509Certificate(certPem);
    if (!nodeCert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    if (!nodeCert.checkIssued(ca.nodeCert) || !nodeCert.verify(ca.nodeCert.publicKey)) return false;
    const cert = new x509.X509Certificate(certPem);
    if (cert.notAfter.getTime() - now < RENEW_BEFORE || cert.notBefore.getTime() > now) return false;
    if (cert.subject !== new x509.Name(spec.subject).toString()) return false;
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    if (!eku?.usages.includes(spec.usage)) return false;
    if (spec.sans) {
      const have = certSans(cert);
      if (!sameList(have.dnsNames, spec.sans.dnsNames) || !sameList(have.ips, spec.sans.ips)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function certSans(cert: x509.X509Certificate): { dnsNames: string[]; ips: string[] } {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = ext?.names.toJSON() ?? [];
  return {
    dnsNames: uniqSorted(names.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase())),
    ips: uniqSorted(names.filter((n) => n.type === 'ip').map((n) => canonicalIp(n.value))),
  };
}

async function createCa(now: number): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_KEY_ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [`skiff-ca@${Math.floor(now / 1000)}`] }],
    notBefore: new Date(now - BACKDATE),
    notAfter: new Date(now + CA_VALIDITY),
    signingAlgorithm: EC_SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: keyToPem(keys.privateKey) };
}

async function issueLeaf(ca: Signer, now: number, spec: LeafSpec): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_KEY_ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([spec.usage]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (spec.sans) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...spec.sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...spec.sans.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  const notAfter = Math.min(now + LEAF_VALIDITY, ca.cert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: spec.subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now - BACKDATE),
    notAfter: new Date(notAfter),
    signingAlgorithm: EC_SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { cert: cert.toString('pem'), key: keyToPem(keys.privateKey) };
}

async function signerFromPem(certPem: string, keyPem: string): Promise<Signer> {
  const key = createPrivateKey(keyPem).toCryptoKey(EC_KEY_ALG, false, ['sign']);
  return { cert: new x509.X509Certificate(certPem), nodeCert: new NodeX509Certificate(certPem), key };
}

function keyToPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A positive, non-zero 128-bit serial number, as hex. */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

function checkDnsName(name: string): string {
  if (
    !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(
      name,
    )
  ) {
    throw new Error(`not a valid DNS name for a certificate: ${JSON.stringify(name)}`);
  }
  return name.replace(/\.$/, '');
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Writes `data` to `path` through a temporary file in the same directory and a rename. */
export function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, { mode, flush: true });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}
