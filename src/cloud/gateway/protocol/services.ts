// What the protocol layer knows about each AWS service, keyed by SigV4 signing name. Values come
// from the services' API models (botocore / Smithy metadata: protocols, targetPrefix, jsonVersion,
// xmlNamespace, awsQueryCompatible) and from the Service Authorization Reference (IAM prefix).

import type { Protocol } from './types.ts';

export interface ServiceInfo {
  /** SigV4 signing name (credential scope). */
  signingName: string;
  /** Prefix of IAM actions, e.g. `cloudwatch` for signing name `monitoring`. */
  iamPrefix: string;
  /** CloudTrail eventSource. */
  eventSource: string;
  /** Protocol a current SDK uses by default. */
  protocol: Protocol;
  /** X-Amz-Target prefixes (JSON) and Smithy service names (CBOR `/service/<name>/operation/<Op>`). */
  targetPrefixes?: string[];
  /** JSON protocol version: content type application/x-amz-json-<v>. */
  jsonVersion?: '1.0' | '1.1';
  /** Query protocol: the API version sent as `Version=` and the XML namespace of responses. */
  apiVersion?: string;
  xmlNamespace?: string;
  /**
   * awsQueryCompatible services (SQS, CloudWatch): JSON/CBOR clients read the legacy query error
   * code from the `x-amzn-query-error: Code;Type` header.
   */
  queryCompatible?: boolean;
}

const S = (i: Omit<ServiceInfo, 'eventSource' | 'iamPrefix'> & Partial<ServiceInfo>): ServiceInfo => ({
  iamPrefix: i.signingName,
  eventSource: `${i.signingName}.amazonaws.com`,
  ...i,
});

export const SERVICES: Record<string, ServiceInfo> = Object.fromEntries(
  [
    S({ signingName: 'iam', protocol: 'query', apiVersion: '2010-05-08', xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/' }),
    S({ signingName: 'sts', protocol: 'query', apiVersion: '2011-06-15', xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/' }),
    S({ signingName: 'ec2', protocol: 'query', apiVersion: '2016-11-15', xmlNamespace: 'http://ec2.amazonaws.com/doc/2016-11-15/' }),
    S({ signingName: 'sns', protocol: 'query', apiVersion: '2010-03-31', xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/' }),
    S({
      signingName: 'monitoring',
      iamPrefix: 'cloudwatch',
      protocol: 'json',
      apiVersion: '2010-08-01',
      xmlNamespace: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
      targetPrefixes: ['GraniteServiceVersion20100801'],
      jsonVersion: '1.0',
      queryCompatible: true,
    }),
    S({
      signingName: 'sqs',
      protocol: 'json',
      apiVersion: '2012-11-05',
      xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
      targetPrefixes: ['AmazonSQS'],
      jsonVersion: '1.0',
      queryCompatible: true,
    }),
    S({ signingName: 'email', iamPrefix: 'ses', eventSource: 'ses.amazonaws.com', protocol: 'query', apiVersion: '2010-12-01', xmlNamespace: 'http://ses.amazonaws.com/doc/2010-12-01/' }),
    S({ signingName: 'elasticloadbalancing', protocol: 'query', apiVersion: '2015-12-01', xmlNamespace: 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/' }),
    S({ signingName: 'kms', protocol: 'json', targetPrefixes: ['TrentService'], jsonVersion: '1.1' }),
    S({
      signingName: 'cloudtrail',
      protocol: 'json',
      targetPrefixes: ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101', 'CloudTrail_20131101'],
      jsonVersion: '1.1',
    }),
    S({ signingName: 'logs', protocol: 'json', targetPrefixes: ['Logs_20140328'], jsonVersion: '1.1' }),
    S({ signingName: 'events', protocol: 'json', targetPrefixes: ['AWSEvents'], jsonVersion: '1.1' }),
    S({ signingName: 'secretsmanager', protocol: 'json', targetPrefixes: ['secretsmanager'], jsonVersion: '1.1' }),
    S({ signingName: 'ssm', protocol: 'json', targetPrefixes: ['AmazonSSM'], jsonVersion: '1.1' }),
    S({ signingName: 'dynamodb', protocol: 'json', targetPrefixes: ['DynamoDB_20120810'], jsonVersion: '1.0' }),
    S({ signingName: 'organizations', protocol: 'json', targetPrefixes: ['AWSOrganizationsV20161128'], jsonVersion: '1.1' }),
    S({ signingName: 'acm', protocol: 'json', targetPrefixes: ['CertificateManager'], jsonVersion: '1.1' }),
    S({ signingName: 'acm-pca', protocol: 'json', targetPrefixes: ['ACMPrivateCA'], jsonVersion: '1.1' }),
    S({ signingName: 'config', protocol: 'json', targetPrefixes: ['StarlingDoveService'], jsonVersion: '1.1' }),
    S({ signingName: 'kinesis', protocol: 'json', targetPrefixes: ['Kinesis_20131202'], jsonVersion: '1.1' }),
    S({ signingName: 'firehose', protocol: 'json', targetPrefixes: ['Firehose_20150804'], jsonVersion: '1.1' }),
    S({ signingName: 'states', protocol: 'json', targetPrefixes: ['AWSStepFunctions'], jsonVersion: '1.0' }),
    S({ signingName: 'wafv2', protocol: 'json', targetPrefixes: ['AWSWAF_20190729'], jsonVersion: '1.1' }),
    S({ signingName: 's3', protocol: 'rest-xml' }),
    // S3 Control: signed as s3 (paths under /v20180820/, see s3control.ts); its own name here so
    // that hooks, errors and authorization tell it from bucket requests. IAM actions and CloudTrail
    // are S3's.
    S({ signingName: 's3control', iamPrefix: 's3', eventSource: 's3.amazonaws.com', protocol: 'rest-xml' }),
    S({ signingName: 'account', protocol: 'rest-json' }),
    S({ signingName: 'lambda', protocol: 'rest-json' }),
    S({ signingName: 'guardduty', protocol: 'rest-json' }),
    S({ signingName: 'macie2', protocol: 'rest-json' }),
    S({ signingName: 'securityhub', protocol: 'rest-json' }),
    S({ signingName: 'access-analyzer', protocol: 'rest-json' }),
  ].map((s) => [s.signingName, s]),
);

/** Service info for a signing name; unknown services get defaults derived from the name. */
export function serviceInfo(signingName: string): ServiceInfo {
  return (
    SERVICES[signingName] ?? {
      signingName,
      iamPrefix: signingName,
      eventSource: `${signingName}.amazonaws.com`,
      protocol: 'json',
    }
  );
}

/** Signing name for an X-Amz-Target prefix or Smithy service name (exact, else by suffix for `com.amazonaws...` forms). */
export function serviceForTarget(prefix: string): string | undefined {
  for (const s of Object.values(SERVICES)) {
    if (s.targetPrefixes?.includes(prefix)) return s.signingName;
  }
  const last = prefix.split('.').pop() ?? prefix;
  for (const s of Object.values(SERVICES)) {
    if (s.targetPrefixes?.some((t) => t === last || t.endsWith(`.${last}`))) return s.signingName;
  }
  return undefined;
}

/** Signing name for a query-protocol `Version=` value. */
export function serviceForApiVersion(version: string): string | undefined {
  // 2010-08-01 is CloudWatch; several services share no version with another among those listed.
  return Object.values(SERVICES).find((s) => s.apiVersion === version && s.protocol !== 'rest-xml')?.signingName;
}
