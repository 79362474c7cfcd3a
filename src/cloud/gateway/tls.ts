// HTTPS for the lab cloud: a certificate authority made once per install (kept in seclab's cache
// folder, its key readable by you only) signs the gateway's certificate for localhost and 127.0.0.1.
// Clients trust it through AWS_CA_BUNDLE (AWS CLI, boto3) or NODE_EXTRA_CA_CERTS (Node.js SDK).
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface LabCa {
  /** The CA certificate file clients trust (PEM). */
  certFile: string;
  certPem: string;
  keyPem: string;
}

/** Names the gateway's certificate covers: what clients put in endpoint URLs, and S3's virtual hosts. */
export const TLS_NAMES = ['localhost', '*.localhost', 's3.localhost', '*.s3.localhost'];
export const TLS_IPS = ['127.0.0.1', '::1'];

function rsaPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  // node:crypto makes the key (fast, native); forge only builds the certificates.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  const pub = forge.pki.setRsaPublicKey(priv.n, priv.e) as forge.pki.rsa.PublicKey;
  return { publicKey: pub, privateKey: priv, keyPem: forge.pki.privateKeyToPem(priv) };
}

/**
 * A serial number of 16 random bytes, positive and minimally encoded: the first byte is 0x01–0x7f.
 * (forge writes the hex as given: a serial starting with a 00 byte followed by one below 0x80 is a
 * non-minimal DER INTEGER, which OpenSSL refuses with "illegal padding"; the old `0` + 15 bytes did
 * that once in ~500 certificates.)
 */
export function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/**
 * The install's CA, created on first use in `<dir>/ca.pem` and `<dir>/ca-key.pem` (mode 0600). Made
 * in a private folder and renamed into place, so lab clouds starting at once (parallel tests) all end
 * up with the same CA, never a key of one and the certificate of another.
 */
export function labCa(dir: string): LabCa {
  const certFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'ca-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    try {
      new X509Certificate(certPem);
      return { certFile, certPem, keyPem: readFileSync(keyFile, 'utf8') };
    } catch {
      // A CA OpenSSL cannot read (made by an older seclab with a badly encoded serial): made again;
      // clients trust the new file through AWS_CA_BUNDLE as they did the old one.
      rmSync(dir, { recursive: true, force: true });
    }
  }
  mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = mkdtempSync(`${dir}.tmp-`);
  try {
    const { certPem, keyPem } = newCa();
    writeFileSync(path.join(tmp, 'ca-key.pem'), keyPem, { mode: 0o600 });
    writeFileSync(path.join(tmp, 'ca.pem'), certPem, { mode: 0o644 });
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another seclab made it first (or an empty folder is in the way): use what is there.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      if (!existsSync(certFile)) {
        rmSync(dir, { recursive: true, force: true });
        renameSync(tmp, dir);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { certFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

function newCa(): { certPem: string; keyPem: string } {
  const keys = rsaPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const subject = [{ name: 'commonName', value: `seclab lab cloud CA (${randomBytes(4).toString('hex')})` }, { name: 'organizationName', value: 'seclab' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

/**
 * The gateway's certificate, kept beside the CA and reused while it was issued by this CA and has a
 * month left: making one (an RSA key) would otherwise add ~100 ms to every lab cloud start.
 */
export function cachedGatewayCertificate(ca: LabCa): { cert: string; key: string } {
  // Key and certificate in one file (mode 0600), replaced atomically: a reader never sees a pair
  // from two different writers.
  const file = path.join(path.dirname(ca.certFile), 'gateway.pem');
  try {
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('-----BEGIN CERTIFICATE-----');
    const key = text.slice(0, at);
    const cert = text.slice(at);
    const leaf = new X509Certificate(cert);
    if (at > 0 && leaf.checkIssued(new X509Certificate(ca.certPem)) && Date.parse(leaf.validTo) - Date.now() > 30 * 86400_000) return { cert, key };
  } catch {
    // none yet, or unreadable: make one
  }
  const made = gatewayCertificate(ca);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${made.key}${made.cert}`, { mode: 0o600 });
  renameSync(tmp, file);
  return made;
}

/** A certificate for the gateway (localhost, 127.0.0.1, *.localhost), signed by the CA, valid a year. */
export function gatewayCertificate(ca: LabCa): { cert: string; key: string } {
  const keys = rsaPair();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...TLS_NAMES.map((value) => ({ type: 2, value })), ...TLS_IPS.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: `${forge.pki.certificateToPem(cert)}${ca.certPem}`, key: keys.keyPem };
}
