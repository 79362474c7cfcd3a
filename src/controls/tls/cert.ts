// The certificate side, from a full handshake with Node's TLS (OpenSSL): the chain the server sends,
// trust against a CA bundle (or the system store), host name, key, signature algorithm, validity and
// a stapled OCSP response. Trust is decided by building the chain ourselves (issuer name and signature,
// regardless of dates), so that "expired" and "untrusted" are separate findings as in testssl.sh.
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import forge from 'node-forge';
import { TlsProbeError, type Endpoint } from './handshake.ts';

export interface CertInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 fingerprint, hex with colons (as openssl and testssl print it). */
  fingerprintSha256: string;
  keyType: string;
  /** RSA modulus bits, EC curve size. */
  keyBits: number;
  curve?: string;
  signatureAlgorithm: string;
  selfSigned: boolean;
  isCA: boolean;
}

export interface CertificateResult {
  /** The protocol of the handshake that fetched it. */
  protocol: string;
  leaf: CertInfo;
  /** The certificates after the leaf as the server sent them (intermediates, sometimes the root). */
  intermediates: CertInfo[];
  subjectAltNames: string[];
  hostname: string;
  hostnameMatch: boolean;
  /** The chain reaches a certificate of the trust store (dates not considered). */
  trusted: boolean;
  /** Why not: "self-signed", "unknown issuer <name>", "bad signature"… */
  trustError?: string;
  /** The chain built up to the trust anchor, leaf first, as subjects. */
  trustPath: string[];
  trustStore: string;
  /** OpenSSL's own verdict (includes dates): X509 verify error code, or "ok". */
  opensslVerify: string;
  expired: boolean;
  notYetValid: boolean;
  /** Whole days from the probe's "now" until notAfter (negative once expired). */
  daysLeft: number;
  ocspStapled: boolean;
  /** "good", "revoked", "unknown", or the OCSP response status when not successful. */
  ocspStatus?: string;
}

const SIG_OIDS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
};
const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256, secp224r1: 224 };

/** The signatureAlgorithm of a DER certificate (Node 20's X509Certificate does not expose it). */
export function signatureAlgorithmOf(der: Buffer): string {
  const cert = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const algId = (cert.value as forge.asn1.Asn1[])[1]!;
  const oid = forge.asn1.derToOid((algId.value as forge.asn1.Asn1[])[0]!.value as string);
  return SIG_OIDS[oid] ?? oid;
}

function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

export function certInfo(x: X509Certificate): CertInfo {
  const key = x.publicKey;
  const d = key.asymmetricKeyDetails ?? {};
  const type = (key.asymmetricKeyType ?? 'unknown').toUpperCase();
  const curve = d.namedCurve;
  const keyBits = d.modulusLength ?? (curve ? (CURVE_BITS[curve] ?? 0) : type === 'ED25519' ? 256 : type === 'ED448' ? 456 : 0);
  let selfSigned = false;
  try {
    selfSigned = x.subject === x.issuer && x.verify(key);
  } catch { /* unsupported key: not self-signed for our purpose */ }
  return {
    subject: oneLine(x.subject),
    issuer: oneLine(x.issuer),
    serialNumber: x.serialNumber,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprintSha256: x.fingerprint256,
    keyType: type,
    keyBits,
    ...(curve ? { curve } : {}),
    signatureAlgorithm: signatureAlgorithmOf(x.raw),
    selfSigned,
    isCA: x.ca,
  };
}

/** PEM certificates of a bundle file. */
export function readBundle(file: string): X509Certificate[] {
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/** The trust store: the given bundle, else the system bundle, else Node's Mozilla roots. */
export function trustStore(caFile?: string): { name: string; certs: X509Certificate[]; pem: string[] } {
  if (caFile) {
    if (!existsSync(caFile)) throw new TlsProbeError(`CA bundle not found: ${caFile}`, 'CONNECT');
    const certs = readBundle(caFile);
    if (!certs.length) throw new TlsProbeError(`no certificate in the CA bundle ${caFile}`, 'CONNECT');
    return { name: caFile, certs, pem: certs.map((c) => c.toString()) };
  }
  const sys = SYSTEM_BUNDLES.find((f) => existsSync(f));
  if (sys) {
    const certs = readBundle(sys);
    return { name: `system (${sys})`, certs, pem: certs.map((c) => c.toString()) };
  }
  const certs = tls.rootCertificates.map((p) => new X509Certificate(p));
  return { name: 'Node.js bundled roots', certs, pem: [...tls.rootCertificates] };
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** Signed by its own key with subject = issuer (a leaf need not be a CA for that: no checkIssued). */
function selfSignature(x: X509Certificate): boolean {
  try {
    return x.subject === x.issuer && x.verify(x.publicKey);
  } catch {
    return false;
  }
}

/** Builds the chain from the leaf through the sent certificates to an anchor of the store. */
export function buildTrustPath(leaf: X509Certificate, sent: X509Certificate[], anchors: X509Certificate[]): { trusted: boolean; path: X509Certificate[]; error?: string } {
  const path = [leaf];
  let cur = leaf;
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.fingerprint256 === c.fingerprint256);
  for (let depth = 0; depth < 10; depth++) {
    if (isAnchor(cur)) return { trusted: true, path };
    const anchor = anchors.find((a) => issuedBy(cur, a));
    if (anchor) return { trusted: true, path: [...path, anchor] };
    const next = sent.find((c) => !path.includes(c) && issuedBy(cur, c));
    if (!next) {
      if (selfSignature(cur)) return { trusted: false, path, error: path.length === 1 ? 'self-signed certificate' : `self-signed root not in the trust store: ${oneLine(cur.subject)}` };
      return { trusted: false, path, error: `issuer not found in the chain or the trust store: ${oneLine(cur.issuer)}` };
    }
    path.push(next);
    cur = next;
  }
  return { trusted: false, path, error: 'chain longer than 10 certificates' };
}

/** OCSP response (RFC 6960): responseStatus and, when successful, the certStatus of the first SingleResponse. */
export function ocspStatusOf(der: Buffer): string {
  try {
    const A = forge.asn1;
    const resp = A.fromDer(forge.util.createBuffer(der.toString('binary')));
    const parts = resp.value as forge.asn1.Asn1[];
    const status = (parts[0]!.value as string).charCodeAt(0);
    const names = ['successful', 'malformedRequest', 'internalError', 'tryLater', '4', 'sigRequired', 'unauthorized'];
    if (status !== 0) return names[status] ?? `status ${status}`;
    const responseBytes = (parts[1]!.value as forge.asn1.Asn1[])[0]!;
    const octets = (responseBytes.value as forge.asn1.Asn1[])[1]!.value as string;
    const basic = A.fromDer(forge.util.createBuffer(octets));
    const tbs = (basic.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
    // tbsResponseData: [0] version?, responderID, producedAt, responses, ...
    const responses = tbs.find((x) => x.tagClass === A.Class.UNIVERSAL && x.type === A.Type.SEQUENCE && Array.isArray(x.value) && (x.value as forge.asn1.Asn1[]).every((r) => r.type === A.Type.SEQUENCE));
    const single = (responses!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
    const certStatus = single[1]!;
    return ['good', 'revoked', 'unknown'][certStatus.type] ?? `certStatus ${certStatus.type}`;
  } catch {
    return 'unparseable';
  }
}

export interface CertificateOptions {
  serverName?: string;
  caFile?: string;
  now?: Date;
}

/** One full handshake (any version the server speaks, lowest security level) to read the certificate. */
export async function probeCertificate(ep: Endpoint, o: CertificateOptions = {}): Promise<CertificateResult> {
  const timeoutMs = ep.timeoutMs ?? 5000;
  const store = trustStore(o.caFile);
  const servername = o.serverName && !isIP(o.serverName) ? o.serverName : undefined;
  const hostname = o.serverName ?? ep.host;
  const now = o.now ?? new Date();
  // The chain is read inside 'secureConnect': with TLS 1.3, OpenSSL drops the peer chain once the
  // server's NewSessionTicket arrives, and getPeerCertificate(true) then has no issuers.
  const { socket, ocsp, leafX, sent } = await new Promise<{ socket: tls.TLSSocket; ocsp: Buffer | undefined; leafX: X509Certificate | undefined; sent: X509Certificate[] }>((resolve, reject) => {
    let ocspResponse: Buffer | undefined;
    const options: tls.ConnectionOptions = {
      host: ep.host,
      port: ep.port,
      ca: store.pem,
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      ciphers: 'ALL:@SECLEVEL=0',
    };
    if (servername) options.servername = servername;
    // requestOCSP is a TLSSocket option tls.connect passes on (missing from @types/node's ConnectionOptions).
    const s = tls.connect({ ...options, requestOCSP: true } as tls.ConnectionOptions);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new TlsProbeError(`${ep.host}:${ep.port}: no TLS handshake within ${timeoutMs} ms (certificate probe)`, 'TIMEOUT'));
    }, timeoutMs);
    s.on('OCSPResponse', (r: Buffer) => {
      if (r && r.length) ocspResponse = r;
    });
    s.once('secureConnect', () => {
      clearTimeout(timer);
      // The chain as Node reports it (issuerCertificate links); Node appends the anchor from our store.
      const chain: X509Certificate[] = [];
      let c = s.getPeerCertificate(true) as tls.DetailedPeerCertificate;
      const seen = new Set<string>([c.fingerprint256]);
      while (c.issuerCertificate && !seen.has(c.issuerCertificate.fingerprint256)) {
        c = c.issuerCertificate;
        seen.add(c.fingerprint256);
        chain.push(new X509Certificate(c.raw));
      }
      resolve({ socket: s, ocsp: ocspResponse, leafX: s.getPeerX509Certificate(), sent: chain });
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      reject(new TlsProbeError(`${ep.host}:${ep.port}: TLS handshake failed (certificate probe): ${e.code ?? ''} ${e.message}`.trim(), 'PROTOCOL'));
    });
  });
  try {
    if (!leafX) throw new TlsProbeError(`${ep.host}:${ep.port} sent no certificate`, 'PROTOCOL');
    const built = buildTrustPath(leafX, sent, store.certs);
    const leaf = certInfo(leafX);
    // Leave out what the store holds (Node's appended anchor).
    const intermediates = sent.filter((x) => !store.certs.some((a) => a.fingerprint256 === x.fingerprint256)).map(certInfo);
    const san = (leafX.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
    const hostnameMatch = isIP(hostname) ? leafX.checkIP(hostname) !== undefined : leafX.checkHost(hostname) !== undefined;
    const notBefore = new Date(leafX.validFrom);
    const notAfter = new Date(leafX.validTo);
    return {
      protocol: socket.getProtocol() ?? 'unknown',
      leaf,
      intermediates,
      subjectAltNames: san,
      hostname,
      hostnameMatch,
      trusted: built.trusted,
      ...(built.error ? { trustError: built.error } : {}),
      trustPath: built.path.map((x) => oneLine(x.subject)),
      trustStore: store.name,
      opensslVerify: socket.authorized ? 'ok' : String(socket.authorizationError ?? 'unknown'),
      expired: now.getTime() > notAfter.getTime(),
      notYetValid: now.getTime() < notBefore.getTime(),
      daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
      ocspStapled: !!ocsp,
      ...(ocsp ? { ocspStatus: ocspStatusOf(ocsp) } : {}),
    };
  } finally {
    socket.destroy();
  }
}
