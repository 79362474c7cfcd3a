// How an emulated service adds to the pipeline what the target lacks: hooks on the calls of one
// signing name. A service runtime (service.ts) lists its extensions; they reach the rest of the lab
// cloud only through that runtime's capabilities, never through the call.
import type { ApiCall } from './protocol/identify.ts';
import type { Credential } from './credentials.ts';
import type { UpstreamResponse } from './upstream.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | Buffer;
}

export interface CallContext {
  cred: Credential;
  call: ApiCall;
  requestId: string;
  sourceIp: string;
  userAgent: string;
  /** The VPC endpoint the call goes through (header X-Seclab-Vpce, set by the lab's simulated clients in a VPC). */
  vpce?: string;
}

export interface ServiceExtension {
  /** SigV4 signing name of the service (iam, sts, s3, logs, monitoring...). */
  service: string;
  /** Refusals that come before any policy is evaluated (AWS's fixed rules for some credentials); throw ApiError. */
  admit?(ctx: CallContext): Promise<void>;
  /** Answers the call itself (the target lacks the operation or gets it wrong); undefined to pass on. */
  serve?(ctx: CallContext): Promise<Reply | undefined>;
  /** Checks before the target sees an authorized call; throw ApiError to refuse it. */
  before?(ctx: CallContext): Promise<void>;
  /** Learns from the target's successful answer (what it created, what changed); may replace it. */
  after?(ctx: CallContext, res: UpstreamResponse): Promise<UpstreamResponse | void>;
}

// ---- small helpers for the protocols' success responses ----

export const xmlEscape = (s: string): string =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** The text of the first <name> element of an XML response. */
export function xmlTag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? m[1]!.replace(/&lt;|&gt;|&amp;|&apos;|&quot;/g, (e) => ({ '&lt;': '<', '&gt;': '>', '&amp;': '&', '&apos;': "'", '&quot;': '"' })[e]!) : undefined;
}

const NAMESPACES: Record<string, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  monitoring: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
};

export function queryResult(service: string, operation: string, inner: string, requestId: string): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<${operation}Response xmlns="${NAMESPACES[service] ?? ''}"><${operation}Result>${inner}</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
  };
}

export function jsonResult(value: unknown, requestId: string, contentType = 'application/x-amz-json-1.1'): Reply {
  return { status: 200, headers: { 'content-type': contentType, 'x-amzn-requestid': requestId }, body: JSON.stringify(value) };
}
