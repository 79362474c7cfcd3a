// A SigV4-signed JSON 1.1 call (X-Amz-Target <prefix>.<operation>) through the gateway, for services
// whose SDK client the registry lacks at our pinned version (ACM PCA, Route 53 Resolver).
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export type Creds = { accessKeyId: string; secretAccessKey: string };

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Buffer =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** SHA-256 as SignatureV4 takes it (a keyed one is HMAC). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
}

export async function json11Call<T = Record<string, unknown>>(
  endpoint: string, region: string, creds: Creds, signingName: string, targetPrefix: string, operation: string, input: object,
): Promise<{ status: number; body: T }> {
  const url = new URL(endpoint);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({ service: signingName, region, credentials: creds, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${targetPrefix}.${operation}` },
    body,
  });
  const res = await fetch(endpoint, { method: 'POST', headers: signed.headers, body });
  return { status: res.status, body: (await res.json()) as T };
}
