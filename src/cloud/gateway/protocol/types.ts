// Shapes shared by the gateway's protocol layer: the raw HTTP request as the gateway received it,
// and what identify() makes of it.

/** Wire protocols of the AWS APIs the gateway understands. EC2 uses 'query' (its errors differ). */
export type Protocol = 'query' | 'json' | 'rest-xml' | 'rest-json' | 'cbor';

export interface RawRequest {
  method: string;
  /** Raw path without the query string, still percent-encoded as it arrived. */
  path: string;
  query: URLSearchParams;
  /** The query string exactly as received (without `?`), when known: repetitions and escapes as sent. */
  rawQuery?: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface ApiCall {
  /** SigV4 signing name: iam, sts, s3, kms, ec2, cloudtrail, logs, monitoring, sns, sqs, events, lambda... */
  service: string;
  /** CloudTrail eventSource, e.g. iam.amazonaws.com, monitoring.amazonaws.com (CloudWatch). */
  eventSource: string;
  /** API operation name, e.g. CreateUser, GetObject, ListObjectsV2; 'Unknown' when not recognised. */
  operation: string;
  protocol: Protocol;
  region: string;
  accessKeyId?: string;
  /**
   * Request parameters. Query protocol: the form decoded into nested objects and lists (member
   * names as on the wire, e.g. EC2 `Filter`, `InstanceId`). JSON/CBOR: the decoded body. S3: Bucket,
   * Key, the query parameters and the security-relevant x-amz-* headers under their wire names, and
   * a parsed XML body under its root element name. REST-JSON: path labels, mapped query/header
   * members, and the JSON body.
   */
  params: Record<string, unknown>;
  /** Session token of temporary credentials (x-amz-security-token header or query parameter). */
  sessionToken?: string;
  /** Whether it came over TLS (the gateway's HTTPS listener): aws:SecureTransport. */
  secure?: boolean;
  /**
   * Set when the request cannot be read unambiguously (e.g. S3 XML that does not parse): the
   * gateway refuses it with this protocol error instead of authorizing a guess.
   */
  malformed?: { code: string; message: string };
  /** How the request was signed: SigV4 header, SigV4 query string (presigned), legacy SigV2, or not at all. */
  auth?: 'sigv4' | 'sigv4-query' | 'sigv2' | 'none';
}
