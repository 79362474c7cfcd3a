// SigV4 verification: rebuild the request with only the headers the client signed, sign it again with
// the secret we hold for its access key, and compare in constant time. @smithy/signature-v4 has no
// verify function, so this is the documented way to use it for checking.
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';

// SHA-256 constructor in the shape SignatureV4 wants (new Sha256(secret?)).
const Sha256 = Hash.bind(null, 'sha256') as unknown as new (secret?: unknown) => InstanceType<typeof Hash>;

export interface ParsedAuth {
  accessKeyId: string;
  date: string; // yyyymmdd
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** Signing time from X-Amz-Date (header or presigned query). */
  amzDate: string;
  presigned: boolean;
  expiresSeconds?: number;
}

export interface SignedRequest {
  method: string;
  /** Raw path exactly as received, without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
}

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/;

/** Reads the SigV4 fields from the Authorization header or a presigned URL; undefined when unsigned. */
export function parseAuth(req: SignedRequest): ParsedAuth | undefined {
  const header = req.headers['authorization'];
  if (header) {
    const m = AUTH_RE.exec(header.trim());
    if (!m) return undefined;
    return {
      accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!,
      signedHeaders: m[5]!.split(';'), signature: m[6]!,
      amzDate: req.headers['x-amz-date'] ?? '', presigned: false,
    };
  }
  const cred = req.query.get('X-Amz-Credential');
  if (req.query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256' && cred) {
    const [accessKeyId, date, region, service] = cred.split('/');
    return {
      accessKeyId: accessKeyId ?? '', date: date ?? '', region: region ?? '', service: service ?? '',
      signedHeaders: (req.query.get('X-Amz-SignedHeaders') ?? 'host').split(';'),
      signature: req.query.get('X-Amz-Signature') ?? '',
      amzDate: req.query.get('X-Amz-Date') ?? '', presigned: true,
      expiresSeconds: Number(req.query.get('X-Amz-Expires') ?? '900'),
    };
  }
  return undefined;
}

/** Parses 20240101T000000Z. */
export function parseAmzDate(amzDate: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export type VerifyResult = { ok: true } | { ok: false; code: 'SignatureDoesNotMatch' | 'RequestExpired' | 'IncompleteSignature'; message: string };

const MAX_SKEW_MS = 15 * 60 * 1000; // AWS refuses requests signed more than 15 minutes away from its clock

const signers = new Map<string, SignatureV4>();
function signerFor(auth: ParsedAuth, accessKeyId: string, secret: string, sessionToken: string | undefined): SignatureV4 {
  const key = `${accessKeyId}\0${secret}\0${auth.region}\0${auth.service}\0${sessionToken ?? ''}`;
  let s = signers.get(key);
  if (!s) {
    s = new SignatureV4({
      credentials: { accessKeyId, secretAccessKey: secret, sessionToken },
      region: auth.region, service: auth.service, sha256: Sha256,
      // S3 signs the path as sent; every other service escapes it once more.
      uriEscapePath: auth.service !== 's3',
      applyChecksum: false,
    });
    if (signers.size > 5000) signers.clear();
    signers.set(key, s);
  }
  return s;
}

/**
 * Verifies the request's signature against `secret`. `now` is wall-clock time (clients sign with their
 * real clock, not the lab clock).
 */
export async function verifySignature(req: SignedRequest, auth: ParsedAuth, secret: string, now = Date.now()): Promise<VerifyResult> {
  const signedAt = parseAmzDate(auth.amzDate);
  if (!signedAt) return { ok: false, code: 'IncompleteSignature', message: 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.' };
  if (auth.presigned) {
    if (now > signedAt.getTime() + (auth.expiresSeconds ?? 900) * 1000) {
      return { ok: false, code: 'RequestExpired', message: 'Request has expired' };
    }
  } else if (Math.abs(now - signedAt.getTime()) > MAX_SKEW_MS) {
    return { ok: false, code: 'RequestExpired', message: `Signature expired: ${auth.amzDate} is now earlier or later than the allowed 15 minutes from the server time.` };
  }

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = req.headers[name];
    if (v !== undefined) headers[name] = v;
  }
  const declaredHash = req.headers['x-amz-content-sha256'];
  if (declaredHash && /^[0-9a-f]{64}$/.test(declaredHash)) {
    const actual = createHash('sha256').update(req.body).digest('hex');
    if (actual !== declaredHash) {
      return { ok: false, code: 'SignatureDoesNotMatch', message: 'The provided \'x-amz-content-sha256\' header does not match what was computed.' };
    }
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of req.query) {
    if (auth.presigned && k === 'X-Amz-Signature') continue;
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const hostHeader = headers['host'] ?? req.headers['host'] ?? '';
  const request = new HttpRequest({
    method: req.method, protocol: 'http:', hostname: hostHeader.split(':')[0] ?? '', path: req.path,
    query, headers, body: auth.presigned ? undefined : req.body,
  });
  const sessionToken = auth.presigned ? req.query.get('X-Amz-Security-Token') ?? undefined : undefined;
  const signer = signerFor(auth, auth.accessKeyId, secret, sessionToken);
  let expected: string;
  if (auth.presigned) {
    // The presigned signature covers the query minus X-Amz-Signature; sign that canonical request.
    const presignParams = new Set(['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token']);
    const stripped = new HttpRequest({ ...request, query: Object.fromEntries(Object.entries(query).filter(([k]) => !presignParams.has(k))) });
    const pre = await signer.presign(stripped, {
      signingDate: signedAt, expiresIn: auth.expiresSeconds,
      unhoistableHeaders: new Set(), signableHeaders: new Set(auth.signedHeaders),
    });
    expected = String(pre.query?.['X-Amz-Signature'] ?? '');
  } else {
    const signed = await signer.sign(request, { signingDate: signedAt, signableHeaders: new Set(auth.signedHeaders) });
    const m = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization'] ?? ''));
    expected = m?.[1] ?? '';
  }
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(auth.signature, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false, code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  }
  return { ok: true };
}
