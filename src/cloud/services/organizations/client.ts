// A small AWS Organizations client for labs, scenarios and tests (seclab does not depend on
// @aws-sdk/client-organizations): JSON 1.1 over HTTP, signed with SigV4 like any SDK request, so the
// gateway authenticates, authorizes and records it as it would the AWS CLI's.
import { createHash, createHmac } from 'node:crypto';

export interface OrgClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export class OrganizationsError extends Error {
  constructor(readonly code: string, message: string, readonly status: number) {
    super(message || code);
    this.name = code;
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

export class OrganizationsClient {
  constructor(private readonly endpoint: string, private readonly credentials: OrgClientCredentials, private readonly region = 'us-east-1') {}

  /** Calls one operation, e.g. send('CreateAccount', { Email, AccountName }). Errors throw OrganizationsError. */
  async send<T = Record<string, unknown>>(operation: string, params: object = {}): Promise<T> {
    const url = new URL('/', this.endpoint);
    const body = JSON.stringify(params);
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const date = amzDate.slice(0, 8);
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.1',
      host: url.host,
      'x-amz-date': amzDate,
      'x-amz-target': `AWSOrganizationsV20161128.${operation}`,
      ...(this.credentials.sessionToken ? { 'x-amz-security-token': this.credentials.sessionToken } : {}),
    };
    const names = Object.keys(headers).sort();
    const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), sha256(body)].join('\n');
    const scope = `${date}/${this.region}/organizations/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    let key = hmac(`AWS4${this.credentials.secretAccessKey}`, date);
    for (const part of [this.region, 'organizations', 'aws4_request']) key = hmac(key, part);
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    if (!res.ok) {
      let code = String(res.status);
      let message = text;
      try {
        const j = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
        code = (j.__type ?? code).split('#').pop()!;
        message = j.message ?? j.Message ?? '';
      } catch {
        // not JSON
      }
      throw new OrganizationsError(code, message, res.status);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }
}
