// Route 53 Resolver query logging in the lab cloud, through the real gateway and moto: the query
// logging API (JSON 1.1, signed with SigV4 as the SDKs sign it: the npm registry reachable here has no
// @aws-sdk/client-route53resolver of the 3.11xx line the other clients use) and the AWS CLI when it is
// installed (botocore's own model builds the requests and parses the answers); errors as the API
// reference names them; IAM authorization on the configuration's ARN; instances' lookups tied to their
// instance and VPC, delivered in AWS's record format to CloudWatch Logs (FilterLogEvents and metric
// filters see them) and to S3 (gzip JSON lines under AWSLogs/<account>/vpcdnsquerylogs/...), nothing
// without an association, and listeners told of every lookup whatever the configuration.
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { json11Call, type Creds } from '../helpers/json11.ts';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { EC2Client, CreateVpcCommand, CreateSubnetCommand, DescribeImagesCommand, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { S3Client, CreateBucketCommand, ListObjectsV2Command, GetObjectCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import {
  CloudWatchLogsClient, CreateLogGroupCommand, FilterLogEventsCommand, PutMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { useLabCloud } from '../helpers/cloud.ts';
import type { ResolvedQuery } from '../../src/cloud/services/route53resolver/index.ts';
import { parseDestination, s3Key } from '../../src/cloud/services/route53resolver/records.ts';
import { run, toolBin, toolInstalled } from '../../scripts/tools.ts';

const { cloud } = useLabCloud();

type Answer = { status: number; body: Record<string, any> };

/** One Route 53 Resolver call through the gateway (JSON 1.1, X-Amz-Target Route53Resolver.<op>), SigV4-signed. */
async function r53r(creds: Creds, operation: string, input: object): Promise<Answer> {
  return json11Call<Answer['body']>(cloud().url, cloud().region, creds, 'route53resolver', 'Route53Resolver', operation, input);
}

/** An account with a VPC, a subnet and two running instances. */
async function account() {
  const c = cloud();
  const root = c.createAccount();
  const creds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const ec2 = c.client(EC2Client, { credentials: creds });
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.20.1.0/24' }))).Subnet!.SubnetId!;
  const ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images![0]!.ImageId!;
  const run2 = await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 2, MaxCount: 2, InstanceType: 't3.micro', SubnetId: subnet }));
  const instances = run2.Instances!.map((i) => ({ id: i.InstanceId!, ip: i.PrivateIpAddress! }));
  return {
    c, id: root.accountId, creds, vpc, subnet, instances, ec2,
    call: (op: string, input: object, k: Creds = creds) => r53r(k, op, input),
    logs: c.client(CloudWatchLogsClient, { credentials: creds }),
    s3: c.client(S3Client, { credentials: creds }),
    iam: c.client(IAMClient, { credentials: creds }),
    resolver: c.gateway.service('route53resolver'),
  };
}

describe('Route 53 Resolver query logging API', () => {
  it('creates, gets, lists, associates, disassociates and deletes configurations as the API reference says', async () => {
    const a = await account();
    const group = `arn:aws:logs:${a.c.region}:${a.id}:log-group:/northwind/dns:*`;
    await a.c.gateway.clock.advance(86_400_000); // a day ahead of the wall clock
    const before = a.c.gateway.clock.nowMs();
    const created = await a.call('CreateResolverQueryLogConfig', { Name: 'northwind-dns', DestinationArn: group, CreatorRequestId: 'req-1', Tags: [{ Key: 'team', Value: 'sec' }] });
    expect(created.status).toBe(200);
    const cfg = created.body['ResolverQueryLogConfig'];
    expect(cfg).toMatchObject({ Name: 'northwind-dns', DestinationArn: group, CreatorRequestId: 'req-1', OwnerId: a.id, Status: 'CREATING', ShareStatus: 'NOT_SHARED', AssociationCount: 0 });
    expect(cfg.Id).toMatch(/^rslvr-qlc-[0-9a-f]{17}$/);
    expect(cfg.Arn).toBe(`arn:aws:route53resolver:${a.c.region}:${a.id}:resolver-query-log-config/${cfg.Id}`);
    // the lab clock, not the wall clock
    expect(Date.parse(cfg.CreationTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(cfg.CreationTime)).toBeLessThanOrEqual(a.c.gateway.clock.nowMs());
    // a retry of the same request gets the same configuration; another request with the same id is refused
    const retry = await a.call('CreateResolverQueryLogConfig', { Name: 'northwind-dns', DestinationArn: group, CreatorRequestId: 'req-1' });
    expect(retry.body['ResolverQueryLogConfig'].Id).toBe(cfg.Id);
    const clash = await a.call('CreateResolverQueryLogConfig', { Name: 'other', DestinationArn: group, CreatorRequestId: 'req-1' });
    expect(clash).toMatchObject({ status: 400, body: { __type: 'ResourceExistsException' } });

    const got = await a.call('GetResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id });
    expect(got.body['ResolverQueryLogConfig']).toMatchObject({ Id: cfg.Id, Status: 'CREATED' });
    const tags = await a.call('ListTagsForResource', { ResourceArn: cfg.Arn });
    expect(tags.body['Tags']).toEqual([{ Key: 'team', Value: 'sec' }]);

    const assoc = await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    expect(assoc.body['ResolverQueryLogConfigAssociation']).toMatchObject({ ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc, Status: 'CREATING', Error: 'NONE' });
    const assocId = assoc.body['ResolverQueryLogConfigAssociation'].Id;
    expect(assocId).toMatch(/^rslvr-qla-[0-9a-f]{17}$/);
    expect((await a.call('GetResolverQueryLogConfigAssociation', { ResolverQueryLogConfigAssociationId: assocId })).body['ResolverQueryLogConfigAssociation'].Status).toBe('ACTIVE');
    expect((await a.call('GetResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id })).body['ResolverQueryLogConfig'].AssociationCount).toBe(1);
    const again = await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    expect(again).toMatchObject({ status: 400, body: { __type: 'ResourceExistsException' } });

    // a configuration with VPCs cannot be deleted
    const busy = await a.call('DeleteResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id });
    expect(busy).toMatchObject({ status: 400, body: { __type: 'InvalidRequestException' } });
    expect(busy.body['Message']).toContain(a.vpc);

    // lists: filters (current and early spellings), sorting, paging, counts
    const second = (await a.call('CreateResolverQueryLogConfig', { Name: 'archive', DestinationArn: 'arn:aws:s3:::northwind-dns-archive/r53/', CreatorRequestId: 'req-2' })).body['ResolverQueryLogConfig'];
    const byDest = await a.call('ListResolverQueryLogConfigs', { Filters: [{ Name: 'Destination', Values: ['S3'] }] });
    expect(byDest.body).toMatchObject({ TotalCount: 2, TotalFilteredCount: 1 });
    expect(byDest.body['ResolverQueryLogConfigs'].map((x: { Id: string }) => x.Id)).toEqual([second.Id]);
    const early = await a.call('ListResolverQueryLogConfigs', { Filters: [{ Name: 'CREATOR_REQUEST_ID', Values: ['req-1'] }] });
    expect(early.body['ResolverQueryLogConfigs'].map((x: { Id: string }) => x.Id)).toEqual([cfg.Id]);
    const sorted = await a.call('ListResolverQueryLogConfigs', { SortBy: 'Name', SortOrder: 'ASCENDING' });
    expect(sorted.body['ResolverQueryLogConfigs'].map((x: { Name: string }) => x.Name)).toEqual(['archive', 'northwind-dns']);
    const page1 = await a.call('ListResolverQueryLogConfigs', { MaxResults: 1, SortBy: 'Name' });
    expect(page1.body['ResolverQueryLogConfigs']).toHaveLength(1);
    const page2 = await a.call('ListResolverQueryLogConfigs', { MaxResults: 1, SortBy: 'Name', NextToken: page1.body['NextToken'] });
    expect(page2.body['ResolverQueryLogConfigs'][0].Name).toBe('northwind-dns');
    expect(page2.body['NextToken']).toBeUndefined();
    const assocs = await a.call('ListResolverQueryLogConfigAssociations', { Filters: [{ Name: 'ResourceId', Values: [a.vpc] }] });
    expect(assocs.body).toMatchObject({ TotalCount: 1, TotalFilteredCount: 1 });

    const dis = await a.call('DisassociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    expect(dis.body['ResolverQueryLogConfigAssociation']).toMatchObject({ Id: assocId, Status: 'DELETING' });
    const gone = await a.call('GetResolverQueryLogConfigAssociation', { ResolverQueryLogConfigAssociationId: assocId });
    expect(gone).toMatchObject({ status: 400, body: { __type: 'ResourceNotFoundException' } });
    const del = await a.call('DeleteResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id });
    expect(del.body['ResolverQueryLogConfig']).toMatchObject({ Id: cfg.Id, Status: 'DELETING' });
    expect((await a.call('GetResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id })).body['__type']).toBe('ResourceNotFoundException');
    // CloudTrail recorded the calls with Route 53 Resolver's event source
    const trail = a.c.gateway.service('cloudtrail').trail.all(a.id).filter((r) => r.eventSource === 'route53resolver.amazonaws.com').map((r) => r.eventName);
    expect(trail).toEqual(expect.arrayContaining(['CreateResolverQueryLogConfig', 'AssociateResolverQueryLogConfig', 'DisassociateResolverQueryLogConfig', 'DeleteResolverQueryLogConfig']));
  });

  it('refuses bad input with the errors the API reference names', async () => {
    const a = await account();
    const bad = async (op: string, input: object, type: string, field?: string) => {
      const r = await a.call(op, input);
      expect(r.status, `${op} ${JSON.stringify(input)}`).toBe(400);
      expect(r.body['__type']).toBe(type);
      if (field) expect(r.body['FieldName']).toBe(field);
      expect(String(r.body['Message']).length).toBeGreaterThan(20);
    };
    await bad('CreateResolverQueryLogConfig', { DestinationArn: 'arn:aws:s3:::b-1', CreatorRequestId: 'x' }, 'InvalidParameterException', 'Name');
    await bad('CreateResolverQueryLogConfig', { Name: '12345', DestinationArn: 'arn:aws:s3:::b-1', CreatorRequestId: 'x' }, 'InvalidParameterException', 'Name');
    await bad('CreateResolverQueryLogConfig', { Name: 'bad/name', DestinationArn: 'arn:aws:s3:::b-1', CreatorRequestId: 'x' }, 'InvalidParameterException', 'Name');
    await bad('CreateResolverQueryLogConfig', { Name: 'n', DestinationArn: 'arn:aws:sqs:us-east-1:123456789012:q', CreatorRequestId: 'x' }, 'InvalidParameterException', 'DestinationArn');
    await bad('CreateResolverQueryLogConfig', { Name: 'n', DestinationArn: `arn:aws:logs:eu-west-1:${a.id}:log-group:g`, CreatorRequestId: 'x' }, 'InvalidParameterException', 'DestinationArn');
    await bad('CreateResolverQueryLogConfig', { Name: 'n', DestinationArn: 'arn:aws:s3:::b-1' }, 'InvalidParameterException', 'CreatorRequestId');
    await bad('GetResolverQueryLogConfig', { ResolverQueryLogConfigId: 'rslvr-qlc-0123456789abcdef0' }, 'ResourceNotFoundException');
    await bad('DeleteResolverQueryLogConfig', { ResolverQueryLogConfigId: 'rslvr-qlc-0123456789abcdef0' }, 'ResourceNotFoundException');
    await bad('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: 'rslvr-qlc-0123456789abcdef0', ResourceId: a.vpc }, 'ResourceNotFoundException');
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'n', DestinationArn: 'arn:aws:s3:::b-1', CreatorRequestId: 'ok' })).body['ResolverQueryLogConfig'];
    await bad('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: 'vpc-0123456789abcdef0' }, 'InvalidParameterException', 'ResourceId');
    await bad('DisassociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc }, 'ResourceNotFoundException');
    await bad('ListResolverQueryLogConfigs', { MaxResults: 500 }, 'InvalidParameterException', 'MaxResults');
    await bad('ListResolverQueryLogConfigs', { Filters: [{ Name: 'Colour', Values: ['x'] }] }, 'InvalidParameterException', 'Filters');
    await bad('ListResolverQueryLogConfigs', { NextToken: 'not-a-token' }, 'InvalidNextTokenException');
    await bad('ListResolverQueryLogConfigAssociations', { SortBy: 'Name' }, 'InvalidParameterException', 'SortBy');
    // the lab cloud's limit of configurations per VPC (every lookup is written once per association)
    for (let i = 0; i < 10; i++) {
      const id = (await a.call('CreateResolverQueryLogConfig', { Name: `n${i}`, DestinationArn: 'arn:aws:s3:::b-1', CreatorRequestId: `many-${i}` })).body['ResolverQueryLogConfig'].Id;
      expect((await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: id, ResourceId: a.vpc })).status).toBe(200);
    }
    await bad('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc }, 'LimitExceededException');
  });

  it('authorizes each call on the configuration it names, as IAM does', async () => {
    const a = await account();
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'n', DestinationArn: 'arn:aws:s3:::b-2', CreatorRequestId: 'r' })).body['ResolverQueryLogConfig'];
    await a.iam.send(new CreateUserCommand({ UserName: 'auditor' }));
    await a.iam.send(new PutUserPolicyCommand({
      UserName: 'auditor', PolicyName: 'read-one',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['route53resolver:GetResolverQueryLogConfig', 'route53resolver:ListResolverQueryLogConfigs'], Resource: cfg.Arn }] }),
    }));
    const k = (await a.iam.send(new CreateAccessKeyCommand({ UserName: 'auditor' }))).AccessKey!;
    const auditor = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    expect((await a.call('GetResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id }, auditor)).status).toBe(200);
    // List has no resource type: a policy on one configuration's ARN does not allow it
    expect((await a.call('ListResolverQueryLogConfigs', {}, auditor)).body['__type']).toBe('AccessDeniedException');
    expect((await a.call('DeleteResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id }, auditor)).body['__type']).toBe('AccessDeniedException');
    expect((await a.call('CreateResolverQueryLogConfig', { Name: 'm', DestinationArn: 'arn:aws:s3:::b-2', CreatorRequestId: 's' }, auditor)).body['__type']).toBe('AccessDeniedException');
    expect((await a.call('GetResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id })).body['ResolverQueryLogConfig'].Id).toBe(cfg.Id);
  });

  it('passes the rest of Route 53 Resolver on to moto', async () => {
    const a = await account();
    const r = await a.call('ListResolverRules', {});
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body['ResolverRules'])).toBe(true);
  });
});

describe('instances\' lookups and query-log delivery', () => {
  it('delivers AWS-format records to CloudWatch Logs, where FilterLogEvents and metric filters see them', async () => {
    const a = await account();
    const [web, app] = a.instances;
    await a.logs.send(new CreateLogGroupCommand({ logGroupName: '/northwind/dns' }));
    await a.logs.send(new PutMetricFilterCommand({
      logGroupName: '/northwind/dns', filterName: 'nxdomain', filterPattern: '{ $.rcode = "NXDOMAIN" }',
      metricTransformations: [{ metricName: 'NxDomain', metricNamespace: 'Northwind/DNS', metricValue: '1' }],
    }));
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'dns', DestinationArn: `arn:aws:logs:${a.c.region}:${a.id}:log-group:/northwind/dns`, CreatorRequestId: 'c' })).body['ResolverQueryLogConfig'];
    await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    const t0 = a.c.gateway.clock.nowMs();
    const r = await a.resolver.lookups(a.id, a.c.region, [
      { srcaddr: web!.ip, qname: 'sts.us-east-1.amazonaws.com', at: t0 - 2000, answers: ['52.94.241.129'] },
      { srcaddr: app!.ip, qname: 'db-2.northwind.internal', qtype: 'AAAA', rcode: 'NXDOMAIN', at: t0 - 1000 },
    ]);
    expect(r).toMatchObject({ logged: 2, skipped: [] });
    await a.c.gateway.flush();
    const events = (await a.logs.send(new FilterLogEventsCommand({ logGroupName: '/northwind/dns' }))).events ?? [];
    expect(events).toHaveLength(2);
    const first = JSON.parse(events.find((e) => e.message!.includes('sts.'))!.message!);
    expect(Object.keys(first)).toEqual(['version', 'account_id', 'region', 'vpc_id', 'query_timestamp', 'query_name', 'query_type', 'query_class', 'rcode', 'answers', 'srcaddr', 'srcport', 'transport', 'srcids']);
    expect(first).toMatchObject({
      version: '1.100000', account_id: a.id, region: a.c.region, vpc_id: a.vpc, query_name: 'sts.us-east-1.amazonaws.com.', query_type: 'A', query_class: 'IN',
      rcode: 'NOERROR', answers: [{ Rdata: '52.94.241.129', Type: 'A', Class: 'IN' }], srcaddr: web!.ip, transport: 'UDP', srcids: { instance: web!.id },
    });
    expect(first.query_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(first.srcport).toMatch(/^\d+$/);
    expect(events.find((e) => e.message!.includes('NXDOMAIN'))!.logStreamName).toBe(`${a.vpc}_${cfg.Id}`);
    // the JSON filter pattern matched the NXDOMAIN record: one data point
    const stats = a.c.gateway.service('cloudwatch').metricsFor(a.id, a.c.region).getStatistics('Northwind/DNS', 'NxDomain', undefined, t0 - 60_000, t0 + 60_000);
    expect(stats?.Sum).toBe(1);
    expect(a.resolver.deliveries(a.id)).toEqual([expect.objectContaining({ configId: cfg.Id, delivered: 2, pending: 0 })]);
  });

  it('delivers gzip JSON-lines files to S3 under AWSLogs/<account>/vpcdnsquerylogs/<vpc>/yyyy/mm/dd/ once their 5 minutes end', async () => {
    const a = await account();
    const [web] = a.instances;
    const bucket = `dns-archive-${a.id}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'archive', DestinationArn: `arn:aws:s3:::${bucket}/r53/`, CreatorRequestId: 'c' })).body['ResolverQueryLogConfig'];
    await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    const t0 = a.c.gateway.clock.nowMs();
    await a.resolver.lookups(a.id, a.c.region, [
      { srcaddr: web!.ip, qname: 'deb.debian.org', at: t0, answers: ['151.101.2.132'] },
      { srcaddr: web!.ip, qname: 'security.debian.org', at: t0 + 1, answers: ['151.101.66.132'] },
    ]);
    await a.c.gateway.flush();
    const list = async () => (await a.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    expect(await list()).toHaveLength(0); // the 5-minute file is not closed yet
    await a.c.gateway.clock.advance(5 * 60_000 + 1000);
    const objs = await list();
    expect(objs).toHaveLength(1);
    const d = new Date(Math.floor(t0 / 300_000) * 300_000);
    const day = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
    expect(objs[0]!.Key).toMatch(new RegExp(`^r53/AWSLogs/${a.id}/vpcdnsquerylogs/${a.vpc}/${day}/${a.vpc}_vpcdnsquerylogs_${a.id}_\\d{8}T\\d{4}Z_[0-9a-f]{8}\\.log\\.gz$`));
    const body = await (await a.s3.send(new GetObjectCommand({ Bucket: bucket, Key: objs[0]!.Key! }))).Body!.transformToByteArray();
    const lines = gunzipSync(Buffer.from(body)).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.query_name)).toEqual(['deb.debian.org.', 'security.debian.org.']);
    expect(lines[0]).toMatchObject({ vpc_id: a.vpc, srcids: { instance: web!.id }, account_id: a.id });
  });

  it('writes nothing without an association, after a disassociation, or from a stopped instance; listeners see every lookup', async () => {
    const a = await account();
    const [web, app] = a.instances;
    await a.logs.send(new CreateLogGroupCommand({ logGroupName: '/quiet' }));
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'quiet', DestinationArn: `arn:aws:logs:${a.c.region}:${a.id}:log-group:/quiet`, CreatorRequestId: 'c' })).body['ResolverQueryLogConfig'];
    const seen: ResolvedQuery[] = [];
    const stop = a.resolver.onQueries((acct, _region, qs) => {
      if (acct === a.id) seen.push(...qs);
    });
    const t0 = a.c.gateway.clock.nowMs();
    const before = await a.resolver.lookups(a.id, a.c.region, [{ srcaddr: web!.ip, qname: 'example.com', at: t0 }]);
    expect(before.logged).toBe(0);
    await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    await a.call('DisassociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    await a.resolver.lookups(a.id, a.c.region, [{ srcaddr: web!.ip, qname: 'example.org', at: t0 }]);
    await a.ec2.send(new StopInstancesCommand({ InstanceIds: [app!.id] }));
    await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc });
    const stopped = await a.resolver.lookups(a.id, a.c.region, [{ srcaddr: app!.ip, qname: 'example.net', at: t0 }]);
    expect(stopped.skipped).toHaveLength(1);
    expect(stopped.skipped[0]!.reason).toMatch(/stopped/);
    await a.c.gateway.flush();
    expect((await a.logs.send(new FilterLogEventsCommand({ logGroupName: '/quiet' }))).events ?? []).toHaveLength(0);
    stop();
    expect(seen.map((q) => [q.record.query_name, q.instanceId])).toEqual([['example.com.', web!.id], ['example.org.', web!.id]]);
    // an address that is no interface of the account is the scenario's mistake
    await expect(a.resolver.lookups(a.id, a.c.region, [{ srcaddr: '10.99.0.1', qname: 'x.example', at: t0 }])).rejects.toThrow(/no network interface .* 10\.99\.0\.1/);
  });

  it('marks the association FAILED (DESTINATION_NOT_FOUND) when the log group or bucket does not exist; Firehose is accepted and delivers nothing', async () => {
    const a = await account();
    const [web] = a.instances;
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'lost', DestinationArn: `arn:aws:logs:${a.c.region}:${a.id}:log-group:/missing`, CreatorRequestId: 'c' })).body['ResolverQueryLogConfig'];
    const fh = await a.call('CreateResolverQueryLogConfig', { Name: 'stream', DestinationArn: `arn:aws:firehose:${a.c.region}:${a.id}:deliverystream/dns`, CreatorRequestId: 'f' });
    expect(fh.body['ResolverQueryLogConfig']['seclab:note']).toMatch(/no Kinesis Data Firehose/);
    const assoc = (await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc })).body['ResolverQueryLogConfigAssociation'];
    await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: fh.body['ResolverQueryLogConfig'].Id, ResourceId: a.vpc });
    await a.resolver.lookups(a.id, a.c.region, [{ srcaddr: web!.ip, qname: 'example.com', at: a.c.gateway.clock.nowMs() }]);
    await a.c.gateway.flush();
    const got = (await a.call('GetResolverQueryLogConfigAssociation', { ResolverQueryLogConfigAssociationId: assoc.Id })).body['ResolverQueryLogConfigAssociation'];
    expect(got).toMatchObject({ Status: 'FAILED', Error: 'DESTINATION_NOT_FOUND' });
    expect(got.ErrorMessage).toContain('/missing');
    const stats = a.resolver.deliveries(a.id);
    expect(stats.find((s) => s.name === 'stream')).toMatchObject({ delivered: 0, pending: 0, note: expect.stringMatching(/Firehose/) });
  });
});

describe('another account\'s bucket', () => {
  it('takes query logs only when its bucket policy lets delivery.logs.amazonaws.com write them for the account', async () => {
    const a = await account();
    const b = await account();
    const [web] = a.instances;
    const bucket = `central-dns-${b.id}`;
    await b.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const cfg = (await a.call('CreateResolverQueryLogConfig', { Name: 'central', DestinationArn: `arn:aws:s3:::${bucket}`, CreatorRequestId: 'c' })).body['ResolverQueryLogConfig'];
    const assoc = (await a.call('AssociateResolverQueryLogConfig', { ResolverQueryLogConfigId: cfg.Id, ResourceId: a.vpc })).body['ResolverQueryLogConfigAssociation'];
    const send = async () => {
      await a.resolver.lookups(a.id, a.c.region, [{ srcaddr: web!.ip, qname: 'example.com', at: a.c.gateway.clock.nowMs() }]);
      await a.c.gateway.clock.advance(5 * 60_000 + 1000);
    };
    await send();
    const listB = async () => (await b.s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [];
    expect(await listB()).toHaveLength(0);
    const failed = (await a.call('GetResolverQueryLogConfigAssociation', { ResolverQueryLogConfigAssociationId: assoc.Id })).body['ResolverQueryLogConfigAssociation'];
    expect(failed).toMatchObject({ Status: 'FAILED', Error: 'ACCESS_DENIED' });
    await b.s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow', Principal: { Service: 'delivery.logs.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${a.id}/*`,
          Condition: { StringEquals: { 'aws:SourceAccount': a.id, 's3:x-amz-acl': 'bucket-owner-full-control' } },
        }],
      }),
    }));
    await send();
    const objs = await listB();
    expect(objs).toHaveLength(1);
    expect(objs[0]!.Key).toMatch(new RegExp(`^AWSLogs/${a.id}/vpcdnsquerylogs/${a.vpc}/`));
    expect((await a.call('GetResolverQueryLogConfigAssociation', { ResolverQueryLogConfigAssociationId: assoc.Id })).body['ResolverQueryLogConfigAssociation'].Status).toBe('ACTIVE');
  });
});

describe('records', () => {
  it('parses the destination ARN forms of the API reference', () => {
    expect(parseDestination('arn:aws:s3:::amzn-s3-demo-bucket')).toEqual({ kind: 's3', bucket: 'amzn-s3-demo-bucket', prefix: '' });
    expect(parseDestination('arn:aws:s3:::amzn-s3-demo-bucket/development/')).toEqual({ kind: 's3', bucket: 'amzn-s3-demo-bucket', prefix: 'development' });
    expect(parseDestination('arn:aws:logs:us-west-1:123456789012:log-group:/mystack-testgroup-12ABC1AB12A1:*')).toEqual({ kind: 'logs', region: 'us-west-1', account: '123456789012', group: '/mystack-testgroup-12ABC1AB12A1' });
    expect(typeof parseDestination('arn:aws:kinesis:us-east-2:0123456789:stream/my_stream_name')).toBe('string');
    const key = s3Key('', '111122223333', 'vpc-7example', Date.UTC(2021, 1, 4, 17, 50), Buffer.from('x'));
    expect(key).toMatch(/^AWSLogs\/111122223333\/vpcdnsquerylogs\/vpc-7example\/2021\/02\/04\/vpc-7example_vpcdnsquerylogs_111122223333_20210204T1750Z_[0-9a-f]{8}\.log\.gz$/);
  });
});

describe.skipIf(!toolInstalled('awscli'))('Route 53 Resolver query logging with the AWS CLI', () => {
  it('the CLI creates, associates, lists and deletes a configuration and reads the errors', async () => {
    const a = await account();
    const env = { ...process.env, AWS_ACCESS_KEY_ID: a.creds.accessKeyId, AWS_SECRET_ACCESS_KEY: a.creds.secretAccessKey, AWS_DEFAULT_REGION: a.c.region, AWS_ENDPOINT_URL: a.c.url };
    const aws = (...args: string[]) => run(toolBin('awscli', 'aws'), ['route53resolver', ...args, '--output', 'json'], { env, timeoutMs: 60_000 });
    const created = await aws('create-resolver-query-log-config', '--name', 'cli', '--destination-arn', 'arn:aws:s3:::cli-bucket', '--creator-request-id', 'cli-1');
    expect(created.code, created.stderr).toBe(0);
    const id = JSON.parse(created.stdout).ResolverQueryLogConfig.Id as string;
    expect((await aws('associate-resolver-query-log-config', '--resolver-query-log-config-id', id, '--resource-id', a.vpc)).code).toBe(0);
    const listed = await aws('list-resolver-query-log-config-associations');
    expect(JSON.parse(listed.stdout).ResolverQueryLogConfigAssociations[0]).toMatchObject({ ResolverQueryLogConfigId: id, ResourceId: a.vpc, Status: 'ACTIVE' });
    const refused = await aws('delete-resolver-query-log-config', '--resolver-query-log-config-id', id);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/InvalidRequestException/);
    expect((await aws('disassociate-resolver-query-log-config', '--resolver-query-log-config-id', id, '--resource-id', a.vpc)).code).toBe(0);
    expect((await aws('delete-resolver-query-log-config', '--resolver-query-log-config-id', id)).code).toBe(0);
    const missing = await aws('get-resolver-query-log-config', '--resolver-query-log-config-id', id);
    expect(missing.stderr).toMatch(/ResourceNotFoundException/);
  }, 120_000);
});
