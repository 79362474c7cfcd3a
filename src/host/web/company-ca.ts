// The company's internal CA for lab `host`: what a company running its own web servers has (or what
// ACM Private CA-style issuance returns): a CA certificate clients trust (the "CA bundle") and, on
// request, a server certificate + key for a host name, signed by that CA. The CA itself is made by the
// lab cloud's helper (src/cloud/gateway/tls.ts labCa: created once in a folder, key mode 0600); this
// file only issues leaves.
import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { labCa, serial as certificateSerial, type LabCa } from '../../cloud/gateway/tls.ts';

export interface CompanyCa {
  /** The CA bundle file clients trust (PEM): pass it to `probe(..., { caFile })`, curl --cacert. */
  bundleFile: string;
  certPem: string;
  /** Internal: the CA's key (never handed to students). */
  ca: LabCa;
}

export interface IssuedCertificate {
  /** Leaf then the CA certificate (what nginx's ssl_certificate expects: the full chain). */
  chainPem: string;
  /** The leaf certificate alone. */
  certPem: string;
  /** PKCS#8 private key. */
  keyPem: string;
  serial: string;
  notAfter: Date;
}

/** The company CA kept in `dir` (created on first use; the same CA afterwards). */
export function companyCa(dir: string): CompanyCa {
  const ca = labCa(dir);
  return { bundleFile: ca.certFile, certPem: ca.certPem, ca };
}

export interface IssueOptions {
  /** Other names (DNS names or IP addresses) the certificate covers besides `hostName`. */
  altNames?: string[];
  /** RSA key size (default 2048) or 'ec' for a P-256 key. */
  key?: 2048 | 3072 | 4096 | 'ec';
  /** Validity in days (default 365). */
  days?: number;
  now?: Date;
}

/** Issue a server certificate for `hostName` (and `altNames`), signed by the company CA. */
export function issueServerCertificate(ca: CompanyCa, hostName: string, o: IssueOptions = {}): IssuedCertificate {
  if (!hostName || /[\s/]/.test(hostName)) throw new Error(`company CA: not a host name: "${hostName}"`);
  const bits = o.key === undefined ? 2048 : o.key;
  if (bits === 'ec') throw new Error('company CA: EC keys are not supported by this issuer yet (use RSA 2048/3072/4096)');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  const caCert = forge.pki.certificateFromPem(ca.ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.ca.keyPem) as forge.pki.rsa.PrivateKey;
  const now = o.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(priv.n, priv.e);
  const serial = certificateSerial();
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + (o.days ?? 365) * 86400_000);
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: hostName }]);
  cert.setIssuer(caCert.subject.attributes);
  const names = [...new Set([hostName, ...(o.altNames ?? [])])];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
    // RFC 5280 4.2.1.1/4.2.1.2: the issuer's key id (sslyze refuses a leaf without it) and the leaf's own.
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { chainPem: `${certPem}${ca.certPem}`, certPem, keyPem: privateKey, serial, notAfter };
}
