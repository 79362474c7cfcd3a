// Amazon GuardDuty served by the lab cloud, through the real gateway and moto with the AWS SDK v3:
// detectors (one per account and Region, features and dataSources, publishing frequency, tags),
// sample findings in AWS's finding format with GuardDuty's severities, ListFindings / GetFindings with
// criteria and sorting, statistics, archive and feedback, filters with ARCHIVE suppression, threat and
// trusted IP lists read from S3 (status and reason), EventBridge publication of new findings at once
// and of updates on the publishing frequency (lab clock), and findings from the lab cloud's own calls
// (root credentials, CloudTrail stopped, Kali Linux user agent, a caller on a threat list).
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, PutBucketPolicyCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CloudTrailClient, CreateTrailCommand, StopLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  GuardDutyClient, CreateDetectorCommand, GetDetectorCommand, UpdateDetectorCommand, DeleteDetectorCommand, ListDetectorsCommand,
  CreateSampleFindingsCommand, ListFindingsCommand, GetFindingsCommand, GetFindingsStatisticsCommand, ArchiveFindingsCommand,
  UnarchiveFindingsCommand, UpdateFindingsFeedbackCommand, CreateFilterCommand, GetFilterCommand, ListFiltersCommand, UpdateFilterCommand,
  DeleteFilterCommand, CreateIPSetCommand, GetIPSetCommand, ListIPSetsCommand, UpdateIPSetCommand, DeleteIPSetCommand,
  CreateThreatIntelSetCommand, GetThreatIntelSetCommand, ListThreatIntelSetsCommand, TagResourceCommand, ListTagsForResourceCommand,
  UntagResourceCommand, type Finding, type Condition,
} from '@aws-sdk/client-guardduty';
import fc from 'fast-check';
import { useLabCloud } from '../helpers/cloud.ts';
import { parseLocation, parseTxt, listed } from '../../src/cloud/services/guardduty/lists.ts';
import { checkCriteria, matches, wildcard } from '../../src/cloud/services/guardduty/criteria.ts';
import { run, toolBin, toolInstalled } from '../../scripts/tools.ts';

const { cloud } = useLabCloud();
type Creds = { accessKeyId: string; secretAccessKey: string };

function account() {
  const c = cloud();
  const root = c.createAccount();
  const creds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  return {
    c, id: root.accountId, creds,
    gd: (k: Creds = creds, opts: { sourceIp?: string; userAgent?: string } = {}) => c.client(GuardDutyClient, { credentials: k, ...opts }),
    s3: c.client(S3Client, { credentials: creds }),
    iam: c.client(IAMClient, { credentials: creds }),
    sqs: c.client(SQSClient, { credentials: creds }),
    events: c.client(EventBridgeClient, { credentials: creds }),
    trail: c.client(CloudTrailClient, { credentials: creds }),
  };
}

async function errorOf(p: Promise<unknown>): Promise<{ name?: string; message?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as { name?: string; message?: string };
  }
  throw new Error('expected the call to fail');
}

/** An IAM user with full GuardDuty and S3 read rights, and its key. */
async function user(a: ReturnType<typeof account>, name: string): Promise<Creds> {
  await a.iam.send(new CreateUserCommand({ UserName: name }));
  await a.iam.send(new PutUserPolicyCommand({
    UserName: name, PolicyName: 'work',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['guardduty:*', 's3:List*', 's3:Get*'], Resource: '*' }] }),
  }));
  const k = (await a.iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
}

async function findingsOf(gd: GuardDutyClient, detectorId: string, criterion: Record<string, Condition> = {}): Promise<Finding[]> {
  const ids = (await gd.send(new ListFindingsCommand({ DetectorId: detectorId, FindingCriteria: { Criterion: criterion } }))).FindingIds ?? [];
  if (!ids.length) return [];
  return (await gd.send(new GetFindingsCommand({ DetectorId: detectorId, FindingIds: ids }))).Findings ?? [];
}

async function queue(a: ReturnType<typeof account>, name: string) {
  const q = await a.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const arn = (await a.sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
  await a.events.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify({ source: ['aws.guardduty'], 'detail-type': ['GuardDuty Finding'] }) }));
  await a.events.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'q', Arn: arn }] }));
  const received = async (): Promise<Array<{ source: string; 'detail-type': string; detail: { id: string; type: string; service: { count: number; additionalInfo: unknown } } }>> => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      const r = await a.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      for (const m of r.Messages ?? []) out.push(JSON.parse(m.Body!));
      if (!r.Messages?.length) break;
    }
    return out;
  };
  return { received };
}

describe('GuardDuty lists and criteria (pure)', () => {
  it('reads list locations in the forms GuardDuty accepts, and refuses others', () => {
    expect(parseLocation('https://s3.amazonaws.com/my-bucket/lists/bad.txt')).toEqual({ bucket: 'my-bucket', key: 'lists/bad.txt' });
    expect(parseLocation('https://s3.eu-west-1.amazonaws.com/my-bucket/a%20b.txt')).toEqual({ bucket: 'my-bucket', key: 'a b.txt' });
    expect(parseLocation('https://my-bucket.s3.amazonaws.com/bad.txt')).toEqual({ bucket: 'my-bucket', key: 'bad.txt' });
    expect(parseLocation('https://my.dotted.bucket.s3.us-east-2.amazonaws.com/x/y.txt')).toEqual({ bucket: 'my.dotted.bucket', key: 'x/y.txt' });
    expect(parseLocation('s3://my-bucket/k')).toEqual({ bucket: 'my-bucket', key: 'k' });
    expect(parseLocation('https://example.com/my-bucket/k')).toBeUndefined();
    expect(parseLocation('https://s3.amazonaws.com/only-bucket')).toBeUndefined();
    expect(parseLocation('not a url')).toBeUndefined();
  });

  it('parses TXT lists: addresses, CIDR ranges, IPv6, domains only in threat lists, the first bad line named', () => {
    const l = parseTxt('# c\n10.1.0.0/16\n\n192.0.2.7\n2001:db8::/32\nbad.example.org\n', { domains: true, maxEntries: 10 });
    expect(l.entries).toBe(4);
    expect(listed(l, '10.1.255.3')).toBe(true);
    expect(listed(l, '10.2.0.1')).toBe(false);
    expect(listed(l, '192.0.2.7')).toBe(true);
    expect(listed(l, '192.0.2.8')).toBe(false);
    expect(listed(l, '2001:db8:1::5')).toBe(true);
    expect(listed(l, 'not-an-ip')).toBe(false);
    expect(l.domains.has('bad.example.org')).toBe(true);
    expect(() => parseTxt('bad.example.org\n', { domains: false, maxEntries: 10 })).toThrow(/line 1/);
    expect(() => parseTxt('10.0.0.0/33\n', { domains: false, maxEntries: 10 })).toThrow(/CIDR/);
    expect(() => parseTxt('1.2.3.4\n1.2.3.5\n1.2.3.6\n', { domains: false, maxEntries: 2 })).toThrow(/more than 2/);
  });

  it('a /24 in a list holds exactly the addresses that share its first three octets (property)', () => {
    fc.assert(fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)), fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), (net, ip) => {
      const l = parseTxt(`${net.join('.')}.0/24`, { domains: false, maxEntries: 1 });
      const inside = ip[0] === net[0] && ip[1] === net[1] && ip[2] === net[2];
      return listed(l, ip.join('.')) === inside;
    }));
  });

  it('wildcard matching agrees with a regular expression oracle (property)', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 8 });
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '?'), maxLength: 10 });
    fc.assert(fc.property(word, text, (pattern, t) => {
      const oracle = new RegExp(`^${pattern.replace(/\?/g, '.').replace(/\*/g, '.*')}$`, 's');
      return wildcard(pattern, t) === oracle.test(t);
    }), { numRuns: 2000 });
    // A pattern that makes a backtracking regex engine work hard is linear here.
    expect(wildcard('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  });

  it('matches criteria on nested lists, dates, wildcards, and refuses unknown attributes and operators', () => {
    const f = {
      type: 'Recon:EC2/Portscan', severity: 5, updatedAt: '2026-01-02T03:04:05.000Z',
      resource: { instanceDetails: { networkInterfaces: [{ privateIpAddress: '10.0.0.1' }, { privateIpAddress: '10.0.0.2' }] } },
      service: { archived: false },
    };
    const m = (criterion: Record<string, unknown>) => matches(f, { criterion });
    expect(m({ 'resource.instanceDetails.networkInterfaces.privateIpAddress': { eq: ['10.0.0.2'] } })).toBe(true);
    expect(m({ 'resource.instanceDetails.networkInterfaces.privateIpAddress': { neq: ['10.0.0.2'] } })).toBe(false);
    expect(m({ updatedAt: { greaterThan: Date.parse('2026-01-01T00:00:00Z'), lessThan: Date.parse('2026-01-03T00:00:00Z') } })).toBe(true);
    expect(m({ updatedAt: { gte: Date.parse('2026-01-03T00:00:00Z') } })).toBe(false);
    expect(m({ severity: { eq: ['5'] }, 'service.archived': { equals: ['false'] } })).toBe(true);
    expect(m({ type: { matches: ['Recon:*'], notMatches: ['*SSH*'] } })).toBe(true);
    expect(m({ type: { matches: ['Recon:EC2/Port?can'] } })).toBe(true);
    expect(m({ type: { matches: ['Recon:EC2'] } })).toBe(false);
    expect(m({ 'resource.nothing': { eq: ['x'] } })).toBe(false);
    expect(() => checkCriteria({ criterion: { bogus: { eq: ['x'] } } })).toThrow(/bogus/);
    expect(() => checkCriteria({ criterion: { type: { like: ['x'] } } })).toThrow(/like/);
    expect(() => checkCriteria({ criterion: { severity: { gt: '5' } } })).toThrow(/number/);
  });
});

describe('GuardDuty detectors', () => {
  it('creates one detector per account and Region with features, reads both views, updates, tags and deletes it', async () => {
    const a = account();
    const gd = a.gd();
    expect((await gd.send(new ListDetectorsCommand({}))).DetectorIds).toEqual([]);
    expect((await errorOf(gd.send(new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'TWO_HOURS' as never })))).name).toBe('BadRequestException');
    const both = await errorOf(gd.send(new CreateDetectorCommand({ Enable: true, DataSources: { S3Logs: { Enable: true } }, Features: [{ Name: 'S3_DATA_EVENTS', Status: 'ENABLED' }] })));
    expect(both.name).toBe('BadRequestException');
    expect(both.$metadata?.httpStatusCode).toBe(400);
    expect((await errorOf(gd.send(new CreateDetectorCommand({ Enable: true, Features: [{ Name: 'CLOUD_TRAIL' as never, Status: 'ENABLED' }] })))).name).toBe('BadRequestException');
    expect((await errorOf(gd.send(new CreateDetectorCommand({ Enable: true, Features: [{ Name: 'S3_DATA_EVENTS', Status: 'ENABLED', AdditionalConfiguration: [{ Name: 'EKS_ADDON_MANAGEMENT', Status: 'ENABLED' }] }] })))).name).toBe('BadRequestException');

    const { DetectorId } = await gd.send(new CreateDetectorCommand({
      Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES', Tags: { team: 'secops' },
      Features: [
        { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
        { Name: 'RUNTIME_MONITORING', Status: 'ENABLED', AdditionalConfiguration: [{ Name: 'EC2_AGENT_MANAGEMENT', Status: 'ENABLED' }] },
      ],
    }));
    expect(DetectorId).toMatch(/^[0-9a-f]{32}$/);
    const again = await errorOf(gd.send(new CreateDetectorCommand({ Enable: true })));
    expect(again.name).toBe('BadRequestException');
    expect(again.message).toContain('already exists');
    expect((await gd.send(new ListDetectorsCommand({}))).DetectorIds).toEqual([DetectorId]);

    const d = await gd.send(new GetDetectorCommand({ DetectorId }));
    expect(d.Status).toBe('ENABLED');
    expect(d.FindingPublishingFrequency).toBe('FIFTEEN_MINUTES');
    expect(d.ServiceRole).toBe(`arn:aws:iam::${a.id}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty`);
    expect(d.Tags).toEqual({ team: 'secops' });
    const feature = (n: string) => d.Features?.find((f) => f.Name === n);
    expect(feature('CLOUD_TRAIL')?.Status).toBe('ENABLED');
    expect(feature('FLOW_LOGS')?.Status).toBe('ENABLED');
    expect(feature('S3_DATA_EVENTS')?.Status).toBe('ENABLED');
    expect(feature('EKS_AUDIT_LOGS')?.Status).toBe('DISABLED');
    expect(feature('S3_DATA_EVENTS')?.UpdatedAt).toBeInstanceOf(Date);
    expect(feature('RUNTIME_MONITORING')?.AdditionalConfiguration).toEqual([expect.objectContaining({ Name: 'EC2_AGENT_MANAGEMENT', Status: 'ENABLED' })]);
    expect(d.DataSources?.S3Logs?.Status).toBe('ENABLED');
    expect(d.DataSources?.Kubernetes?.AuditLogs?.Status).toBe('DISABLED');

    // The older dataSources form changes the same protection plans.
    await gd.send(new UpdateDetectorCommand({ DetectorId, FindingPublishingFrequency: 'ONE_HOUR', DataSources: { S3Logs: { Enable: false }, Kubernetes: { AuditLogs: { Enable: true } } } }));
    const u = await gd.send(new GetDetectorCommand({ DetectorId }));
    expect(u.FindingPublishingFrequency).toBe('ONE_HOUR');
    expect(u.Features?.find((f) => f.Name === 'S3_DATA_EVENTS')?.Status).toBe('DISABLED');
    expect(u.Features?.find((f) => f.Name === 'EKS_AUDIT_LOGS')?.Status).toBe('ENABLED');

    const arn = `arn:aws:guardduty:${a.c.region}:${a.id}:detector/${DetectorId}`;
    await gd.send(new TagResourceCommand({ ResourceArn: arn, Tags: { env: 'lab' } }));
    expect((await gd.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({ team: 'secops', env: 'lab' });
    await gd.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['team'] }));
    expect((await gd.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({ env: 'lab' });

    const other = await errorOf(gd.send(new GetDetectorCommand({ DetectorId: '0'.repeat(32) })));
    expect(other.name).toBe('BadRequestException');
    expect(other.message).toContain('not owned by the current account');
    await gd.send(new DeleteDetectorCommand({ DetectorId }));
    expect((await gd.send(new ListDetectorsCommand({}))).DetectorIds).toEqual([]);
  });

  it('answers a retry with the same clientToken with what the first call created', async () => {
    const a = account();
    const gd = a.gd();
    const first = await gd.send(new CreateDetectorCommand({ Enable: true, ClientToken: 'retry-1' }));
    expect((await gd.send(new CreateDetectorCommand({ Enable: true, ClientToken: 'retry-1' }))).DetectorId).toBe(first.DetectorId);
    expect((await errorOf(gd.send(new CreateDetectorCommand({ Enable: true, ClientToken: 'another' })))).name).toBe('BadRequestException');
    const criteria = { Criterion: { severity: { Gte: 7 } } };
    await gd.send(new CreateFilterCommand({ DetectorId: first.DetectorId, Name: 'high', FindingCriteria: criteria, ClientToken: 'f-1' }));
    expect((await gd.send(new CreateFilterCommand({ DetectorId: first.DetectorId, Name: 'high', FindingCriteria: criteria, ClientToken: 'f-1' }))).Name).toBe('high');
    expect((await errorOf(gd.send(new CreateFilterCommand({ DetectorId: first.DetectorId, Name: 'high', FindingCriteria: criteria, ClientToken: 'f-2' })))).name).toBe('BadRequestException');
  });

  it('authorizes guardduty actions with IAM: a user without guardduty:CreateDetector is refused', async () => {
    const a = account();
    await a.iam.send(new CreateUserCommand({ UserName: 'viewer' }));
    await a.iam.send(new PutUserPolicyCommand({
      UserName: 'viewer', PolicyName: 'read',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['guardduty:Get*', 'guardduty:List*'], Resource: '*' }] }),
    }));
    const k = (await a.iam.send(new CreateAccessKeyCommand({ UserName: 'viewer' }))).AccessKey!;
    const viewer = a.gd({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! });
    expect((await viewer.send(new ListDetectorsCommand({}))).DetectorIds).toEqual([]);
    const e = await errorOf(viewer.send(new CreateDetectorCommand({ Enable: true })));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toContain('guardduty:CreateDetector');
  });
});

describe('GuardDuty findings', () => {
  it('makes sample findings in the finding format with GuardDuty severities; lists, filters, sorts, counts, archives and takes feedback', async () => {
    const a = account();
    const gd = a.gd();
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true }));
    const bad = await errorOf(gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: ['Recon:EC2/NoSuchThing'] })));
    expect(bad.name).toBe('BadRequestException');
    expect(bad.message).toContain('Recon:EC2/NoSuchThing');
    const types = ['Backdoor:EC2/C&CActivity.B', 'Recon:EC2/Portscan', 'Policy:IAMUser/RootCredentialUsage', 'UnauthorizedAccess:EC2/SSHBruteForce', 'Trojan:EC2/DNSDataExfiltration'];
    await gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: types }));
    const all = await findingsOf(gd, DetectorId!, { 'service.additionalInfo.sample': { Eq: ['true'] } });
    expect(all.map((f) => f.Type).sort()).toEqual([...types].sort());
    const byType = Object.fromEntries(all.map((f) => [f.Type, f]));
    const cc = byType['Backdoor:EC2/C&CActivity.B']!;
    expect(cc).toMatchObject({ SchemaVersion: '2.0', AccountId: a.id, Region: a.c.region, Partition: 'aws', Severity: 8 });
    expect(cc.Id).toMatch(/^[0-9a-f]{32}$/);
    expect(cc.Arn).toBe(`arn:aws:guardduty:${a.c.region}:${a.id}:detector/${DetectorId}/finding/${cc.Id}`);
    expect(cc.Resource?.ResourceType).toBe('Instance');
    expect(cc.Resource?.InstanceDetails?.InstanceId).toBe('i-99999999');
    expect(cc.Service).toMatchObject({ ServiceName: 'guardduty', DetectorId, Archived: false, Count: 1, ResourceRole: 'ACTOR' });
    expect(cc.Service?.Action?.ActionType).toBe('NETWORK_CONNECTION');
    expect(cc.Service?.Action?.NetworkConnectionAction?.ConnectionDirection).toBe('OUTBOUND');
    expect(cc.Service?.Evidence?.ThreatIntelligenceDetails?.[0]?.ThreatListName).toBeTruthy();
    expect(JSON.parse(cc.Service!.AdditionalInfo!.Value!)).toMatchObject({ sample: true });
    expect(cc.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const root = byType['Policy:IAMUser/RootCredentialUsage']!;
    expect(root.Severity).toBe(2);
    expect(root.Resource?.ResourceType).toBe('AccessKey');
    expect(root.Resource?.AccessKeyDetails?.UserType).toBe('Root');
    expect(root.Service?.Action?.AwsApiCallAction?.RemoteIpDetails?.IpAddressV4).toBe('198.51.100.0');
    expect(byType['Recon:EC2/Portscan']!.Severity).toBe(5);
    expect(byType['UnauthorizedAccess:EC2/SSHBruteForce']!.Service?.Action?.NetworkConnectionAction?.LocalPortDetails?.Port).toBe(22);
    expect(byType['Trojan:EC2/DNSDataExfiltration']!.Service?.Action?.DnsRequestAction?.Protocol).toBe('UDP');

    // A second request for the same samples raises their count.
    await gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: ['Recon:EC2/Portscan'] }));
    expect((await findingsOf(gd, DetectorId!, { type: { Eq: ['Recon:EC2/Portscan'] } }))[0]?.Service?.Count).toBe(2);

    // Criteria: high severity, new and deprecated operators, wildcards; sorting.
    const sample = { 'service.additionalInfo.sample': { Equals: ['true'] } };
    const high = await findingsOf(gd, DetectorId!, { ...sample, severity: { GreaterThanOrEqual: 7 } });
    expect(high.map((f) => f.Type).sort()).toEqual(['Backdoor:EC2/C&CActivity.B', 'Trojan:EC2/DNSDataExfiltration']);
    expect((await findingsOf(gd, DetectorId!, { ...sample, severity: { Gte: 4, Lt: 7 } })).map((f) => f.Type)).toEqual(['Recon:EC2/Portscan']);
    expect((await findingsOf(gd, DetectorId!, { ...sample, type: { Matches: ['*:EC2/*'], NotEquals: ['Recon:EC2/Portscan'] } })).length).toBe(3);
    expect((await findingsOf(gd, DetectorId!, { ...sample, 'resource.resourceType': { Neq: ['Instance'] } })).map((f) => f.Type)).toEqual(['Policy:IAMUser/RootCredentialUsage']);
    const asc = await gd.send(new ListFindingsCommand({ DetectorId, FindingCriteria: { Criterion: sample }, SortCriteria: { AttributeName: 'severity', OrderBy: 'ASC' } }));
    const sorted = (await gd.send(new GetFindingsCommand({ DetectorId, FindingIds: asc.FindingIds }))).Findings!;
    const order = asc.FindingIds!.map((id) => sorted.find((f) => f.Id === id)!.Severity!);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(order[0]).toBe(2);
    const paged = await gd.send(new ListFindingsCommand({ DetectorId, FindingCriteria: { Criterion: sample }, MaxResults: 2 }));
    expect(paged.FindingIds).toHaveLength(2);
    const rest = await gd.send(new ListFindingsCommand({ DetectorId, FindingCriteria: { Criterion: sample }, MaxResults: 50, NextToken: paged.NextToken }));
    expect(rest.FindingIds).toHaveLength(3);
    expect((await errorOf(gd.send(new ListFindingsCommand({ DetectorId, FindingCriteria: { Criterion: { nosuch: { Eq: ['x'] } } } })))).name).toBe('BadRequestException');

    // Statistics.
    const stats = await gd.send(new GetFindingsStatisticsCommand({ DetectorId, FindingStatisticTypes: ['COUNT_BY_SEVERITY'], FindingCriteria: { Criterion: sample } }));
    expect(stats.FindingStatistics?.CountBySeverity).toEqual({ '2.0': 2, '5.0': 1, '8.0': 2 });
    const grouped = await gd.send(new GetFindingsStatisticsCommand({ DetectorId, GroupBy: 'SEVERITY', FindingCriteria: { Criterion: sample } }));
    expect(grouped.FindingStatistics?.GroupedBySeverity?.map((g) => [g.Severity, g.TotalFindings])).toEqual([[2, 2], [8, 2], [5, 1]]);
    const byTypeStats = await gd.send(new GetFindingsStatisticsCommand({ DetectorId, GroupBy: 'FINDING_TYPE', FindingCriteria: { Criterion: sample }, MaxResults: 1 }));
    expect(byTypeStats.FindingStatistics?.GroupedByFindingType).toEqual([expect.objectContaining({ TotalFindings: 1 })]);

    // Archive, unarchive, feedback.
    await gd.send(new ArchiveFindingsCommand({ DetectorId, FindingIds: [cc.Id!] }));
    expect((await findingsOf(gd, DetectorId!, { 'service.archived': { Eq: ['true'] } })).map((f) => f.Id)).toEqual([cc.Id]);
    await gd.send(new UnarchiveFindingsCommand({ DetectorId, FindingIds: [cc.Id!] }));
    expect(await findingsOf(gd, DetectorId!, { 'service.archived': { Eq: ['true'] } })).toEqual([]);
    expect((await errorOf(gd.send(new ArchiveFindingsCommand({ DetectorId, FindingIds: ['f'.repeat(32)] })))).name).toBe('BadRequestException');
    await gd.send(new UpdateFindingsFeedbackCommand({ DetectorId, FindingIds: [cc.Id!], Feedback: 'USEFUL', Comments: 'known C2' }));
    expect((await findingsOf(gd, DetectorId!, { 'service.userFeedback': { Eq: ['USEFUL'] } })).map((f) => f.Id)).toEqual([cc.Id]);
  });
});

describe('GuardDuty filters and lists', () => {
  it('filters: validation, CRUD, rank; an ARCHIVE filter suppresses new matching findings (archived, not published)', async () => {
    const a = account();
    const gd = a.gd();
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true }));
    const q = await queue(a, 'gd-filters');
    const criteria = { Criterion: { type: { Eq: ['Recon:EC2/Portscan'] } } };
    expect((await errorOf(gd.send(new CreateFilterCommand({ DetectorId, Name: 'x', FindingCriteria: criteria })))).name).toBe('BadRequestException');
    expect((await errorOf(gd.send(new CreateFilterCommand({ DetectorId, Name: 'bad name!', FindingCriteria: criteria })))).name).toBe('BadRequestException');
    expect((await errorOf(gd.send(new CreateFilterCommand({ DetectorId, Name: 'no-criteria' } as never)))).name).toBe('BadRequestException');
    expect((await errorOf(gd.send(new CreateFilterCommand({ DetectorId, Name: 'bad-op', FindingCriteria: { Criterion: { type: { Eq: 'x' as never } } } })))).name).toBe('BadRequestException');
    await gd.send(new CreateFilterCommand({ DetectorId, Name: 'known-scanner', Action: 'ARCHIVE', Rank: 1, Description: 'our vulnerability scanner', FindingCriteria: criteria, Tags: { owner: 'soc' } }));
    await gd.send(new CreateFilterCommand({ DetectorId, Name: 'watch-ssh', Action: 'NOOP', FindingCriteria: { Criterion: { type: { Eq: ['UnauthorizedAccess:EC2/SSHBruteForce'] } } } }));
    expect((await errorOf(gd.send(new CreateFilterCommand({ DetectorId, Name: 'known-scanner', FindingCriteria: criteria })))).message).toContain('already exists');
    const f = await gd.send(new GetFilterCommand({ DetectorId, FilterName: 'known-scanner' }));
    expect(f).toMatchObject({ Name: 'known-scanner', Action: 'ARCHIVE', Rank: 1, Description: 'our vulnerability scanner', Tags: { owner: 'soc' } });
    expect(f.FindingCriteria?.Criterion?.['type']?.Eq).toEqual(['Recon:EC2/Portscan']);
    expect((await gd.send(new ListFiltersCommand({ DetectorId }))).FilterNames).toEqual(['known-scanner', 'watch-ssh']);

    await gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: ['Recon:EC2/Portscan', 'UnauthorizedAccess:EC2/SSHBruteForce'] }));
    const scan = (await findingsOf(gd, DetectorId!, { type: { Eq: ['Recon:EC2/Portscan'] } }))[0]!;
    const ssh = (await findingsOf(gd, DetectorId!, { type: { Eq: ['UnauthorizedAccess:EC2/SSHBruteForce'] } }))[0]!;
    expect(scan.Service?.Archived).toBe(true);
    expect(ssh.Service?.Archived).toBe(false);
    const events = await q.received();
    const published = events.map((e) => e.detail.type);
    expect(published).toContain('UnauthorizedAccess:EC2/SSHBruteForce');
    expect(published).not.toContain('Recon:EC2/Portscan');

    await gd.send(new UpdateFilterCommand({ DetectorId, FilterName: 'known-scanner', Action: 'NOOP' }));
    expect((await gd.send(new GetFilterCommand({ DetectorId, FilterName: 'known-scanner' }))).Action).toBe('NOOP');
    await gd.send(new DeleteFilterCommand({ DetectorId, FilterName: 'watch-ssh' }));
    expect((await gd.send(new ListFiltersCommand({ DetectorId }))).FilterNames).toEqual(['known-scanner']);
    expect((await errorOf(gd.send(new GetFilterCommand({ DetectorId, FilterName: 'watch-ssh' })))).name).toBe('BadRequestException');
  });

  it('reads threat and trusted IP lists from S3 as its service-linked role; a caller on the threat list makes findings unless trusted', async () => {
    const a = account();
    const gd = a.gd();
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true }));
    const bucket = `gd-lists-${a.id}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'threats.txt', Body: '# known bad\n203.0.113.0/24\n198.51.100.77\nevil.example.com\n' }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'trusted.txt', Body: '203.0.113.50\n' }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'broken.txt', Body: '203.0.113.1\nnot an address!\n' }));

    const missing = await gd.send(new CreateThreatIntelSetCommand({ DetectorId, Name: 'missing', Format: 'TXT', Location: `https://s3.amazonaws.com/${bucket}/nope.txt`, Activate: true }));
    const m = await gd.send(new GetThreatIntelSetCommand({ DetectorId, ThreatIntelSetId: missing.ThreatIntelSetId }));
    expect(m.Status).toBe('ERROR');
    const reason = (id: string | undefined) => a.c.gateway.service('guardduty').lists(a.id).find((x) => x.id === id)?.reason;
    expect(reason(missing.ThreatIntelSetId)).toContain('does not exist');
    const broken = await gd.send(new CreateThreatIntelSetCommand({ DetectorId, Name: 'broken', Format: 'TXT', Location: `s3://${bucket}/broken.txt`, Activate: true }));
    expect((await gd.send(new GetThreatIntelSetCommand({ DetectorId, ThreatIntelSetId: broken.ThreatIntelSetId }))).Status).toBe('ERROR');
    expect(reason(broken.ThreatIntelSetId)).toContain('line 2');
    expect((await errorOf(gd.send(new CreateThreatIntelSetCommand({ DetectorId, Name: 'where', Format: 'TXT', Location: 'ftp://nowhere/x', Activate: true })))).name).toBe('BadRequestException');

    const { ThreatIntelSetId } = await gd.send(new CreateThreatIntelSetCommand({ DetectorId, Name: 'partner-feed', Format: 'TXT', Location: `https://${bucket}.s3.amazonaws.com/threats.txt`, Activate: true, Tags: { src: 'partner' } }));
    const t = await gd.send(new GetThreatIntelSetCommand({ DetectorId, ThreatIntelSetId }));
    expect(t).toMatchObject({ Name: 'partner-feed', Format: 'TXT', Status: 'ACTIVE', Tags: { src: 'partner' } });
    expect((await gd.send(new ListThreatIntelSetsCommand({ DetectorId }))).ThreatIntelSetIds).toContain(ThreatIntelSetId);

    // A user calling from an address on the threat list.
    const key = await user(a, 'dev');
    const fromBad = a.c.client(S3Client, { credentials: key, sourceIp: '203.0.113.9' });
    await fromBad.send(new ListBucketsCommand({}));
    const bad = a.gd(key, { sourceIp: '198.51.100.77' });
    await bad.send(new ListDetectorsCommand({}));
    await a.c.gateway.service('guardduty').settle();
    const recon = await findingsOf(gd, DetectorId!, { type: { Eq: ['Recon:IAMUser/MaliciousIPCaller.Custom'] } });
    expect(recon.map((f) => f.Service?.Action?.AwsApiCallAction?.RemoteIpDetails?.IpAddressV4).sort()).toEqual(['198.51.100.77', '203.0.113.9']);
    expect(recon[0]).toMatchObject({ Severity: 5, Resource: { ResourceType: 'AccessKey', AccessKeyDetails: { AccessKeyId: key.accessKeyId, UserName: 'dev', UserType: 'IAMUser' } } });
    expect(recon[0]!.Service?.Evidence?.ThreatIntelligenceDetails?.[0]?.ThreatListName).toBe('partner-feed');
    // A call that is not reconnaissance is UnauthorizedAccess.
    await a.c.client(S3Client, { credentials: key, sourceIp: '203.0.113.9' }).send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' })).catch(() => undefined);
    await a.c.gateway.service('guardduty').settle();
    expect(await findingsOf(gd, DetectorId!, { type: { Eq: ['UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom'] } })).toHaveLength(1);

    // A trusted IP list: no findings for its addresses, even when they are on a threat list.
    const denied = `gd-locked-${a.id}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: denied }));
    await a.s3.send(new PutObjectCommand({ Bucket: denied, Key: 'trusted.txt', Body: '203.0.113.50\n' }));
    await a.s3.send(new PutBucketPolicyCommand({
      Bucket: denied,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${denied}/*`, Condition: { StringLike: { 'aws:PrincipalArn': '*AWSServiceRoleForAmazonGuardDuty*' } } }] }),
    }));
    const locked = await gd.send(new CreateIPSetCommand({ DetectorId, Name: 'office', Format: 'TXT', Location: `s3://${denied}/trusted.txt`, Activate: true }));
    const l = await gd.send(new GetIPSetCommand({ DetectorId, IpSetId: locked.IpSetId }));
    expect(l.Status).toBe('ERROR');
    expect(reason(locked.IpSetId)).toContain('AWSServiceRoleForAmazonGuardDuty');
    expect((await errorOf(gd.send(new CreateIPSetCommand({ DetectorId, Name: 'second', Format: 'TXT', Location: `s3://${bucket}/trusted.txt`, Activate: true })))).message).toContain('limit');
    await gd.send(new UpdateIPSetCommand({ DetectorId, IpSetId: locked.IpSetId, Location: `s3://${bucket}/trusted.txt`, Activate: true }));
    expect((await gd.send(new GetIPSetCommand({ DetectorId, IpSetId: locked.IpSetId }))).Status).toBe('ACTIVE');
    expect((await gd.send(new ListIPSetsCommand({ DetectorId }))).IpSetIds).toEqual([locked.IpSetId]);
    const before = (await findingsOf(gd, DetectorId!)).length;
    await a.c.client(S3Client, { credentials: key, sourceIp: '203.0.113.50' }).send(new ListBucketsCommand({}));
    await a.c.gateway.service('guardduty').settle();
    expect((await findingsOf(gd, DetectorId!)).length).toBe(before);
    // Deactivated, the address is no longer trusted.
    await gd.send(new UpdateIPSetCommand({ DetectorId, IpSetId: locked.IpSetId, Activate: false }));
    expect((await gd.send(new GetIPSetCommand({ DetectorId, IpSetId: locked.IpSetId }))).Status).toBe('INACTIVE');
    await a.c.client(S3Client, { credentials: key, sourceIp: '203.0.113.50' }).send(new ListBucketsCommand({}));
    await a.c.gateway.service('guardduty').settle();
    const recon2 = await findingsOf(gd, DetectorId!, { type: { Eq: ['Recon:IAMUser/MaliciousIPCaller.Custom'] } });
    expect(recon2.map((f) => f.Service?.Action?.AwsApiCallAction?.RemoteIpDetails?.IpAddressV4)).toContain('203.0.113.50');
    await gd.send(new DeleteIPSetCommand({ DetectorId, IpSetId: locked.IpSetId }));
    expect((await gd.send(new ListIPSetsCommand({ DetectorId }))).IpSetIds).toEqual([]);
  });
});

describe('GuardDuty on EventBridge and from the lab cloud\'s own CloudTrail', () => {
  it('publishes new findings at once and updates at the end of the publishing period (lab clock)', async () => {
    const a = account();
    const gd = a.gd();
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES' }));
    const q = await queue(a, 'gd-events');
    await gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: ['CryptoCurrency:EC2/BitcoinTool.B'] }));
    const first = (await q.received()).filter((e) => e.detail.type === 'CryptoCurrency:EC2/BitcoinTool.B');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding' });
    expect(first[0]!.detail.service.count).toBe(1);
    // The event carries additionalInfo as a JSON object, as GuardDuty's events do.
    expect(first[0]!.detail.service.additionalInfo).toMatchObject({ sample: true });

    await gd.send(new CreateSampleFindingsCommand({ DetectorId, FindingTypes: ['CryptoCurrency:EC2/BitcoinTool.B'] }));
    expect((await q.received()).filter((e) => e.detail.type === 'CryptoCurrency:EC2/BitcoinTool.B')).toHaveLength(0);
    await a.c.gateway.clock.advance(15 * 60_000 + 1000);
    const update = (await q.received()).filter((e) => e.detail.type === 'CryptoCurrency:EC2/BitcoinTool.B');
    expect(update).toHaveLength(1);
    expect(update[0]!.detail.id).toBe(first[0]!.detail.id);
    expect(update[0]!.detail.service.count).toBe(2);
  });

  it('finds root credential use, CloudTrail stopped and a Kali Linux user agent in the calls it sees', async () => {
    const a = account();
    const gd = a.gd();
    const { DetectorId } = await gd.send(new CreateDetectorCommand({ Enable: true }));
    const bucket = `trail-${a.id}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await a.s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [
        { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:GetBucketAcl', Resource: `arn:aws:s3:::${bucket}` },
        { Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/AWSLogs/${a.id}/*` },
      ] }),
    }));
    await a.trail.send(new CreateTrailCommand({ Name: 'main', S3BucketName: bucket }));
    await a.trail.send(new StopLoggingCommand({ Name: 'main' }));
    const kali = await user(a, 'pentester');
    await a.gd(kali, { userAgent: 'aws-cli/1.18.69 Python/3.8.5 Linux/5.7.0-kali1-amd64 botocore/1.17.0' }).send(new ListDetectorsCommand({}));
    await a.c.gateway.service('guardduty').settle();

    const [root] = await findingsOf(gd, DetectorId!, { type: { Eq: ['Policy:IAMUser/RootCredentialUsage'] } });
    expect(root).toBeDefined();
    expect(root!.Resource?.AccessKeyDetails).toMatchObject({ AccessKeyId: a.creds.accessKeyId, UserType: 'Root' });
    expect(root!.Service?.Count).toBeGreaterThan(3);
    const [stealth] = await findingsOf(gd, DetectorId!, { type: { Eq: ['Stealth:IAMUser/CloudTrailLoggingDisabled'] } });
    expect(stealth).toMatchObject({ Severity: 2 });
    expect(stealth!.Service?.Action?.AwsApiCallAction).toMatchObject({ Api: 'StopLogging', ServiceName: 'cloudtrail.amazonaws.com' });
    expect(stealth!.Service?.Action?.AwsApiCallAction?.AffectedResources).toEqual({ 'AWS::CloudTrail::Trail': `arn:aws:cloudtrail:${a.c.region}:${a.id}:trail/main` });
    const [pen] = await findingsOf(gd, DetectorId!, { type: { Eq: ['PenTest:IAMUser/KaliLinux'] } });
    expect(pen).toMatchObject({ Severity: 5, Resource: { AccessKeyDetails: { UserName: 'pentester' } } });
    expect(pen!.Service?.Action?.AwsApiCallAction?.UserAgent).toContain('kali');

    // A disabled detector makes no findings.
    await gd.send(new UpdateDetectorCommand({ DetectorId, Enable: false }));
    await a.gd(kali, { userAgent: 'aws-cli/1.18.69 Linux/5.7.0-kali1-amd64' }).send(new ListDetectorsCommand({}));
    await a.c.gateway.service('guardduty').settle();
    expect((await findingsOf(gd, DetectorId!, { type: { Eq: ['PenTest:IAMUser/KaliLinux'] } }))[0]!.Service?.Count).toBe(1);
  });
});

// The AWS CLI (awscli 1.x from seclab's tool cache, as test/compat/awscli.test.ts installs it).
describe.skipIf(!toolInstalled('awscli'))('GuardDuty with the AWS CLI', () => {
  it('create-detector, get-detector, create-sample-findings, list-findings with criteria, an error in the protocol format', async () => {
    const a = account();
    const env = {
      PATH: process.env.PATH, HOME: '/nonexistent', LANG: 'C.UTF-8', AWS_ENDPOINT_URL: a.c.url,
      AWS_ACCESS_KEY_ID: a.creds.accessKeyId, AWS_SECRET_ACCESS_KEY: a.creds.secretAccessKey, AWS_DEFAULT_REGION: a.c.region,
      AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
    };
    const aws = (...args: string[]) => run(toolBin('awscli', 'aws'), ['guardduty', ...args, '--output', 'json'], { env, timeoutMs: 60_000 });
    const json = async (...args: string[]) => {
      const r = await aws(...args);
      expect(r.code, `aws guardduty ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout.trim() ? JSON.parse(r.stdout) : {};
    };
    const { DetectorId } = await json('create-detector', '--enable', '--finding-publishing-frequency', 'FIFTEEN_MINUTES');
    expect(await json('get-detector', '--detector-id', DetectorId)).toMatchObject({ Status: 'ENABLED', FindingPublishingFrequency: 'FIFTEEN_MINUTES' });
    await json('create-sample-findings', '--detector-id', DetectorId, '--finding-types', 'Recon:EC2/Portscan', 'Backdoor:EC2/C&CActivity.B');
    const high = await json('list-findings', '--detector-id', DetectorId, '--finding-criteria', JSON.stringify({ Criterion: { severity: { Gte: 7 }, 'service.additionalInfo.sample': { Eq: ['true'] } } }));
    expect(high.FindingIds).toHaveLength(1);
    const got = await json('get-findings', '--detector-id', DetectorId, '--finding-ids', high.FindingIds[0]);
    expect(got.Findings[0]).toMatchObject({ Type: 'Backdoor:EC2/C&CActivity.B', Severity: 8 });
    const again = await aws('create-detector', '--enable');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('(BadRequestException)');
    expect(again.stderr).toContain('already exists');
  }, 120_000);
});
