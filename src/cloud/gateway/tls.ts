// HTTPS for the lab cloud: a certificate authority made once per install (kept in seclab's cache
// folder, its key readable by you only) signs the gateway's certificate for localhost and 127.0.0.1.
// Clients trust it through AWS_CA_BUNDLE (AWS CLI, boto3) or NODE_EXTRA_CA_CERTS (Node.js SDK).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

function serial(): string {
  // Positive, 16 bytes.
  return `0${randomBytes(15).toString('hex')}`;
}

/** The install's CA, created on first use in `<dir>/ca.pem` and `<dir>/ca-key.pem` (mode 0600). */
export function labCa(dir: string): LabCa {
  const certFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'ca-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    return { certFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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
  const certPem = forge.pki.certificateToPem(cert);
  writeFileSync(keyFile, keys.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, certPem, { mode: 0o644 });
  return { certFile, certPem, keyPem: keys.keyPem };
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
