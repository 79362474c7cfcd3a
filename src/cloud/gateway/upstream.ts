// The gateway's link to the target emulator: forwards clients' requests (choosing the account) and
// makes the gateway's own reads (policies) with the SDK.
import http from 'node:http';
import * as iam from '@aws-sdk/client-iam';
import * as kms from '@aws-sdk/client-kms';
import * as s3 from '@aws-sdk/client-s3';
import * as sts from '@aws-sdk/client-sts';
import * as logs from '@aws-sdk/client-cloudwatch-logs';
import * as cloudtrail from '@aws-sdk/client-cloudtrail';
import * as ec2 from '@aws-sdk/client-ec2';
import * as sns from '@aws-sdk/client-sns';
import * as lambda from '@aws-sdk/client-lambda';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as events from '@aws-sdk/client-eventbridge';
import * as sqs from '@aws-sdk/client-sqs';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface ForwardRequest {
  method: string;
  /** Path with query string, as received. */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export class UpstreamDownError extends Error {}

type AnyClient = { send(cmd: unknown): Promise<unknown>; middlewareStack: iam.IAMClient['middlewareStack'] };
const MODULES: Record<string, Record<string, unknown>> = { iam, kms, s3, sts, logs, cloudtrail, ec2, sns, lambda, cloudwatch, events, sqs };
const CLIENTS: Record<string, string> = {
  iam: 'IAMClient', kms: 'KMSClient', s3: 'S3Client', sts: 'STSClient', logs: 'CloudWatchLogsClient', cloudtrail: 'CloudTrailClient',
  ec2: 'EC2Client', sns: 'SNSClient', lambda: 'LambdaClient', cloudwatch: 'CloudWatchClient', events: 'EventBridgeClient', sqs: 'SQSClient',
};
export type UpstreamService = keyof typeof CLIENTS & string;

export class Upstream {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly target: URL;
  private clients = new Map<string, AnyClient>();
  /** The lab clock's offset from the wall clock, sent to the target (moto's logs follow it). */
  clockOffsetMs = 0;
  /** Set when the emulator died, so every later request fails with the same clear message. */
  deathMessage: string | undefined;

  constructor(url: string, readonly accountSelection: 'header' | 'access-key' = 'header', readonly secretHeaders: Record<string, string> = {}) {
    this.target = new URL(url);
  }

  get url(): string {
    return this.target.origin;
  }

  forward(account: string, req: ForwardRequest): Promise<UpstreamResponse> {
    if (this.deathMessage) return Promise.reject(new UpstreamDownError(this.deathMessage));
    const headers: Record<string, string> = { ...req.headers };
    delete headers['connection'];
    delete headers['keep-alive'];
    // Only the gateway speaks for the lab clock.
    delete headers['x-seclab-clock-offset'];
    if (this.clockOffsetMs) headers['x-seclab-clock-offset'] = String(this.clockOffsetMs);
    for (const k of Object.keys(headers)) if (k.startsWith('x-seclab-upstream')) delete headers[k];
    Object.assign(headers, this.secretHeaders);
    if (this.accountSelection === 'header') {
      headers['x-moto-account-id'] = account;
    } else if (headers['authorization']) {
      // LocalStack picks the account from a 12-digit access key id; it does not check signatures.
      headers['authorization'] = headers['authorization'].replace(/Credential=[^/]+\//, `Credential=${account}/`);
    }
    return new Promise((resolve, reject) => {
      const r = http.request(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const h: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = v;
            resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      r.on('error', (e) => reject(this.deathMessage ? new UpstreamDownError(this.deathMessage) : e));
      r.end(req.body);
    });
  }

  private client(account: string, service: string, region: string): AnyClient {
    const key = `${account}|${service}|${region}`;
    let c = this.clients.get(key);
    if (!c) {
      const Ctor = MODULES[service]![CLIENTS[service]!] as new (cfg: object) => AnyClient;
      c = new Ctor({
        endpoint: this.url, region, forcePathStyle: true, maxAttempts: 2,
        credentials: { accessKeyId: this.accountSelection === 'header' ? 'AKIASECLABGATEWAY000' : account, secretAccessKey: 'gateway' },
      });
      c.middlewareStack.add(
        (next) => async (args) => {
          const h = (args.request as { headers: Record<string, string> }).headers;
          Object.assign(h, this.secretHeaders);
          if (this.accountSelection === 'header') h['x-moto-account-id'] = account;
          if (this.clockOffsetMs) h['x-seclab-clock-offset'] = String(this.clockOffsetMs);
          return next(args);
        },
        { step: 'build', name: 'selectAccount' },
      );
      this.clients.set(key, c);
    }
    return c;
  }

  /** The gateway's own call to the emulator, as the account's root (nothing recorded, nothing checked). */
  async json<T>(account: string, service: UpstreamService, operation: string, params: object, region = 'us-east-1'): Promise<T> {
    if (this.deathMessage) throw new UpstreamDownError(this.deathMessage);
    const Cmd = MODULES[service]![`${operation}Command`] as new (p: object) => unknown;
    if (!Cmd) throw new Error(`no ${service} operation ${operation}`);
    return (await this.client(account, service, region).send(new Cmd(params))) as T;
  }

  async s3BucketPolicy(account: string, bucket: string): Promise<string | undefined> {
    try {
      const r = await this.json<{ Policy?: string }>(account, 's3', 'GetBucketPolicy', { Bucket: bucket });
      return r.Policy;
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchBucketPolicy' || name === 'NoSuchBucket') return undefined;
      throw e;
    }
  }

  close(): void {
    this.agent.destroy();
    for (const c of this.clients.values()) (c as unknown as { destroy(): void }).destroy();
    this.clients.clear();
  }
}
