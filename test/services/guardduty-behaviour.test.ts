// GuardDuty findings from behaviour in API calls (src/cloud/services/guardduty/behaviour.ts), through
// the real gateway and moto: an instance's metadata-service credentials used from outside
// (InstanceCredentialExfiltration.OutsideAWS) and from another account's instance (.InsideAWS), never
// for the instance's own use or its account's other addresses; callers GuardDuty's own intel knows
// (Recon:/UnauthorizedAccess:IAMUser/MaliciousIPCaller), silenced by a trusted IP list; per-principal
// S3 profiles (Discovery:/Exfiltration:S3/AnomalousBehavior) learned for the learning period: silent
// while learning and over a day of the company's ordinary use, reporting a bulk listing and download
// and a discovery API never used; nothing at all without an enabled detector.
import { afterAll, describe, expect, it } from 'vitest';
import {
  EC2Client, RunInstancesCommand, DescribeImagesCommand, DescribeInstancesCommand, AllocateAddressCommand, AssociateAddressCommand,
} from '@aws-sdk/client-ec2';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, ListBucketsCommand, ListObjectsV2Command, GetObjectCommand, GetBucketPolicyCommand } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GuardDutyClient, CreateDetectorCommand, ListFindingsCommand, GetFindingsCommand, CreateIPSetCommand, UpdateDetectorCommand, type Finding as SdkFinding } from '@aws-sdk/client-guardduty';
import { useLabCloud } from '../helpers/cloud.ts';
import { S3_ANOMALY, threshold } from '../../src/cloud/services/guardduty/behaviour.ts';
import type { GuardDutyService } from '../../src/cloud/services/guardduty/index.ts';
import type { Finding } from '../../src/cloud/services/guardduty/findings.ts';
import { Random } from '../../src/engine/random.ts';

const { cloud } = useLabCloud();
type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const EC2_TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const allow = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
const OUTSIDE = '203.0.113.77';

function account() {
  const c = cloud();
  const root = c.createAccount();
  const creds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const gdService = c.gateway.service('guardduty') as GuardDutyService;
  return {
    c, id: root.accountId, creds, gdService,
    ec2: c.client(EC2Client, { credentials: creds }),
    iam: c.client(IAMClient, { credentials: creds }),
    s3: c.client(S3Client, { credentials: creds }),
    gd: c.client(GuardDutyClient, { credentials: creds }),
    imds: c.gateway.service('ec2').imds,
  };
}
type Account = ReturnType<typeof account>;

async function detector(a: Account, s3 = false): Promise<string> {
  const { DetectorId } = await a.gd.send(new CreateDetectorCommand({
    Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES', ...(s3 ? { Features: [{ Name: 'S3_DATA_EVENTS', Status: 'ENABLED' }] } : {}),
  }));
  return DetectorId!;
}

/** The finding types behaviour.ts makes (the service's own CloudTrail analysis reports the root calls of the setup). */
const BEHAVIOUR_TYPES = [
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
  'Recon:IAMUser/MaliciousIPCaller', 'UnauthorizedAccess:IAMUser/MaliciousIPCaller', 'Discovery:S3/AnomalousBehavior', 'Exfiltration:S3/AnomalousBehavior',
];

/** The account's behaviour findings as the lab cloud's GuardDuty holds them (after the analysis in flight). */
async function findings(a: Account): Promise<Finding[]> {
  await a.gdService.settle();
  return a.gdService.findings(a.id).filter((f) => BEHAVIOUR_TYPES.includes(f.type));
}

/** The findings through the API (GetFindings), as a responder would read them. */
async function apiFindings(a: Account, detectorId: string, type: string): Promise<SdkFinding[]> {
  await a.gdService.settle();
  const ids = (await a.gd.send(new ListFindingsCommand({ DetectorId: detectorId, FindingCriteria: { Criterion: { type: { Equals: [type] } } } }))).FindingIds ?? [];
  return ids.length ? (await a.gd.send(new GetFindingsCommand({ DetectorId: detectorId, FindingIds: ids }))).Findings ?? [] : [];
}

async function bucketWithData(a: Account, objects = 12): Promise<string> {
  const bucket = `data-${a.id}`;
  await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (let i = 0; i < objects; i++) await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `customers/c${i}.json`, Body: `{"customer":${i}}` }));
  return bucket;
}

async function appProfile(a: Account): Promise<{ roleId: string }> {
  const role = await a.iam.send(new CreateRoleCommand({ RoleName: 'app-role', AssumeRolePolicyDocument: EC2_TRUST }));
  await a.iam.send(new PutRolePolicyCommand({ RoleName: 'app-role', PolicyName: 'data', PolicyDocument: allow(['s3:GetObject', 's3:ListBucket', 's3:ListAllMyBuckets']) }));
  await a.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'app' }));
  await a.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'app', RoleName: 'app-role' }));
  return { roleId: role.Role!.RoleId! };
}

async function launch(a: Account, profile?: string): Promise<{ id: string; privateIp: string; publicIp?: string }> {
  const amis = await a.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const run = await a.ec2.send(new RunInstancesCommand({ ImageId: amis.Images![0]!.ImageId!, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...(profile ? { IamInstanceProfile: { Name: profile } } : {}) }));
  const id = run.Instances![0]!.InstanceId!;
  const inst = (await a.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  return { id, privateIp: inst.PrivateIpAddress!, ...(inst.PublicIpAddress ? { publicIp: inst.PublicIpAddress } : {}) };
}

/** What the SDK on the instance reads from its metadata service (IMDSv2). */
async function instanceCreds(a: Account, instanceId: string, role = 'app-role'): Promise<Creds> {
  const r = await a.imds.sdkGet(a.id, instanceId, `/latest/meta-data/iam/security-credentials/${role}`, { v1Fallback: false });
  const d = JSON.parse(r.body) as Record<string, string>;
  return { accessKeyId: d['AccessKeyId']!, secretAccessKey: d['SecretAccessKey']!, sessionToken: d['Token']! };
}

async function userKey(a: Account, name: string, actions: string[]): Promise<Creds> {
  await a.iam.send(new CreateUserCommand({ UserName: name }));
  await a.iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'work', PolicyDocument: allow(actions) }));
  const k = (await a.iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
  return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
}

async function trustedList(a: Account, detectorId: string, bucket: string, body: string): Promise<void> {
  await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lists/trusted.txt', Body: body }));
  await a.gd.send(new CreateIPSetCommand({ DetectorId: detectorId, Name: 'office', Format: 'TXT', Location: `s3://${bucket}/lists/trusted.txt`, Activate: true }));
}

describe('GuardDuty findings from behaviour in API calls', { timeout: 600_000 }, () => {
  afterAll(() => {
    const gd = cloud().gateway.service('guardduty') as GuardDutyService;
    gd.intel.clear();
  });

  it("instance credentials: the instance's own use makes nothing; used from outside, OutsideAWS (High) naming the key, the role session, the address and the API; repeats raise the count", async () => {
    const a = account();
    const detectorId = await detector(a);
    const bucket = await bucketWithData(a, 3);
    const { roleId } = await appProfile(a);
    const app = await launch(a, 'app');
    const other = await launch(a);
    const creds = await instanceCreds(a, app.id);
    // The instance's own calls: from its private address (VPC endpoint) and its public address.
    for (const ip of [app.privateIp, ...(app.publicIp ? [app.publicIp] : []), other.privateIp]) {
      const s3 = a.c.client(S3Client, { credentials: creds, sourceIp: ip });
      await s3.send(new ListBucketsCommand({}));
      await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'customers/c0.json' }));
      await a.c.client(STSClient, { credentials: creds, sourceIp: ip }).send(new GetCallerIdentityCommand({}));
    }
    expect(await findings(a)).toEqual([]);

    // The same credentials from an address outside the lab cloud's instances.
    const thief = a.c.client(S3Client, { credentials: creds, sourceIp: OUTSIDE, userAgent: 'aws-cli/2.17.0' });
    await thief.send(new ListBucketsCommand({}));
    await thief.send(new ListBucketsCommand({}));
    const [f, ...rest] = await apiFindings(a, detectorId, 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      Severity: 8, AccountId: a.id,
      Resource: { ResourceType: 'AccessKey', AccessKeyDetails: { AccessKeyId: creds.accessKeyId, PrincipalId: `${roleId}:${app.id}`, UserName: 'app-role', UserType: 'AssumedRole' } },
      Service: {
        Count: 2, Archived: false, ResourceRole: 'TARGET', FeatureName: 'CloudTrail',
        Action: { ActionType: 'AWS_API_CALL', AwsApiCallAction: { Api: 'ListBuckets', ServiceName: 's3.amazonaws.com', CallerType: 'Remote IP', RemoteIpDetails: { IpAddressV4: OUTSIDE } } },
      },
    });
    expect(f!.Title).toContain('app-role');
    expect(JSON.parse(f!.Service!.AdditionalInfo!.Value!)).toMatchObject({ instanceId: app.id, userAgent: { fullUserAgent: expect.stringContaining('aws-cli/2.17.0') } });
    // Without S3 protection, S3 data events (object reads and listings) are not analysed: no new occurrence.
    await thief.send(new GetObjectCommand({ Bucket: bucket, Key: 'customers/c1.json' }));
    await thief.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((await findings(a)).map((x) => [x.type, x.service.count])).toEqual([['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS', 2]]);
    // Nothing for the instance's own calls after the theft either.
    await a.c.client(S3Client, { credentials: creds, sourceIp: app.privateIp }).send(new ListBucketsCommand({}));
    expect((await findings(a))[0]!.service.count).toBe(2);
    // With S3 protection on, the thief's object reads count too (AWS: S3 data plane operations).
    await a.gd.send(new UpdateDetectorCommand({ DetectorId: detectorId, Features: [{ Name: 'S3_DATA_EVENTS', Status: 'ENABLED' }] }));
    await thief.send(new GetObjectCommand({ Bucket: bucket, Key: 'customers/c2.json' }));
    const after = (await findings(a)).find((x) => x.type.endsWith('OutsideAWS'))!;
    expect(after.service.count).toBe(3);
    expect(after.service.action).toMatchObject({ awsApiCallAction: { api: 'GetObject', affectedResources: { 'AWS::S3::Bucket': bucket } } });
  });

  it("instance credentials from another account's instance: InsideAWS naming that account; from the same account's other addresses: nothing", async () => {
    const a = account();
    const detectorId = await detector(a);
    await appProfile(a);
    const app = await launch(a, 'app');
    const creds = await instanceCreds(a, app.id);
    // The same account's Elastic IP on another of its instances (AWS: an address of the same account).
    const own = await a.ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const sibling = await launch(a);
    await a.ec2.send(new AssociateAddressCommand({ AllocationId: own.AllocationId, InstanceId: sibling.id }));
    await a.c.client(S3Client, { credentials: creds, sourceIp: own.PublicIp! }).send(new ListBucketsCommand({}));
    expect(await findings(a)).toEqual([]);
    // Another account of the lab cloud with an instance behind an Elastic IP.
    const b = account();
    const theirs = await launch(b);
    const eip = await b.ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await b.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: theirs.id }));
    await a.c.client(S3Client, { credentials: creds, sourceIp: eip.PublicIp! }).send(new ListBucketsCommand({}));
    const [f, ...rest] = await apiFindings(a, detectorId, 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      Severity: 8,
      Resource: { AccessKeyDetails: { AccessKeyId: creds.accessKeyId, UserType: 'AssumedRole', PrincipalId: expect.stringMatching(new RegExp(`:${app.id}$`)) } },
      Service: { Action: { AwsApiCallAction: { Api: 'ListBuckets', RemoteIpDetails: { IpAddressV4: eip.PublicIp }, RemoteAccountDetails: { AccountId: b.id, Affiliated: false } } } },
    });
    expect((await findings(a)).map((x) => x.type)).toEqual(['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS']);
    // Another account's own calls are its business: nothing in account a, and none in b (no detector).
    expect(await findings(b)).toEqual([]);
  });

  it("callers GuardDuty's own intel knows: Recon for Get/List/Describe, UnauthorizedAccess otherwise; nothing for other addresses or from a trusted IP list", async () => {
    const a = account();
    const detectorId = await detector(a);
    const bucket = await bucketWithData(a, 1);
    const bad = '198.51.100.66';
    const trusted = '198.51.100.67';
    a.gdService.intel.add([{ kind: 'malicious-caller', value: bad }, { kind: 'malicious-caller', value: trusted }, { kind: 'command-and-control', value: '198.51.100.68' }]);
    await trustedList(a, detectorId, bucket, `${trusted}\n`);
    const key = await userKey(a, 'dana', ['s3:*']);
    const from = (ip: string) => a.c.client(S3Client, { credentials: key, sourceIp: ip });
    await from('198.51.100.68').send(new ListBucketsCommand({})); // known, but not as a caller
    await from('192.0.2.10').send(new ListBucketsCommand({}));
    await from(trusted).send(new ListBucketsCommand({}));
    await from(trusted).send(new CreateBucketCommand({ Bucket: `t-${a.id}` }));
    expect(await findings(a)).toEqual([]);
    await from(bad).send(new ListBucketsCommand({}));
    await from(bad).send(new CreateBucketCommand({ Bucket: `x-${a.id}` }));
    await from(bad).send(new GetObjectCommand({ Bucket: bucket, Key: 'customers/c0.json' })); // an S3 data event: not an IAM finding
    const recon = await apiFindings(a, detectorId, 'Recon:IAMUser/MaliciousIPCaller');
    const unauth = await apiFindings(a, detectorId, 'UnauthorizedAccess:IAMUser/MaliciousIPCaller');
    expect(recon).toHaveLength(1);
    expect(unauth).toHaveLength(1);
    for (const [f, api] of [[recon[0]!, 'ListBuckets'], [unauth[0]!, 'CreateBucket']] as const) {
      expect(f).toMatchObject({
        Severity: 5, Resource: { ResourceType: 'AccessKey', AccessKeyDetails: { AccessKeyId: key.accessKeyId, UserName: 'dana', UserType: 'IAMUser' } },
        Service: { Count: 1, Action: { AwsApiCallAction: { Api: api, RemoteIpDetails: { IpAddressV4: bad } } }, Evidence: { ThreatIntelligenceDetails: [{ ThreatListName: 'ProofPoint' }] } },
      });
    }
    await from(bad).send(new ListBucketsCommand({}));
    expect((await findings(a)).find((x) => x.type === 'Recon:IAMUser/MaliciousIPCaller')!.service.count).toBe(2);
    expect((await findings(a)).map((x) => x.type).sort()).toEqual(['Recon:IAMUser/MaliciousIPCaller', 'UnauthorizedAccess:IAMUser/MaliciousIPCaller']);
  });

  it('no enabled detector: nothing, whatever the calls', async () => {
    const a = account();
    const bucket = await bucketWithData(a, 1);
    await appProfile(a);
    const app = await launch(a, 'app');
    const creds = await instanceCreds(a, app.id);
    a.gdService.intel.add([{ kind: 'malicious-caller', value: '198.51.100.90' }]);
    const thief = a.c.client(S3Client, { credentials: creds, sourceIp: OUTSIDE });
    await thief.send(new ListBucketsCommand({}));
    await a.c.client(S3Client, { credentials: a.creds, sourceIp: '198.51.100.90' }).send(new ListBucketsCommand({}));
    expect(await findings(a)).toEqual([]);
    // A disabled detector makes none either.
    const { DetectorId } = await a.gd.send(new CreateDetectorCommand({ Enable: false }));
    await thief.send(new ListObjectsV2Command({ Bucket: bucket }));
    await thief.send(new ListBucketsCommand({}));
    expect(await findings(a)).toEqual([]);
    // Enabled: the same call is reported.
    await a.gd.send(new UpdateDetectorCommand({ DetectorId, Enable: true }));
    await thief.send(new ListBucketsCommand({}));
    expect((await findings(a)).map((x) => x.type)).toEqual(['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS']);
  });

  it('S3 profiles: silent while learning and over a day of ordinary use after it; a bulk listing and download and a discovery API never used are reported with the baseline', async () => {
    const a = account();
    const gd = a.gdService;
    const learningBefore = gd.learningMs;
    // Two days of learning instead of seven keeps the simulated company's calls under a thousand.
    gd.learningMs = 2 * 24 * 3600_000;
    try {
      const detectorId = await detector(a, true);
      const createdAt = a.c.gateway.clock.nowMs();
      const bucket = await bucketWithData(a, 30);
      await appProfile(a);
      const app = await launch(a, 'app');
      const analyst = await userKey(a, 'analyst', ['s3:GetObject', 's3:ListBucket', 's3:ListAllMyBuckets', 's3:GetBucketPolicy']);
      const office = '192.0.2.20';
      const rnd = new Random('guardduty-behaviour-s3-company');
      const keys = Array.from({ length: 30 }, (_, i) => `customers/c${i}.json`);
      let calls = 0;
      /** One hour of the company's ordinary S3 use, in two half-hour slots on the lab clock. */
      const hour = async (): Promise<void> => {
        const h = new Date(a.c.gateway.clock.nowMs()).getUTCHours();
        const business = h >= 8 && h < 18;
        const appCreds = await instanceCreds(a, app.id);
        const appS3 = a.c.client(S3Client, { credentials: appCreds, sourceIp: app.privateIp });
        const analystS3 = a.c.client(S3Client, { credentials: analyst, sourceIp: office });
        for (let slot = 0; slot < 2; slot++) {
          const appLists = business ? rnd.int(0, 3) : rnd.int(0, 1);
          const appReads = business ? rnd.int(2, 8) : rnd.int(0, 2);
          for (let i = 0; i < appLists; i++, calls++) await appS3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'customers/' }));
          for (let i = 0; i < appReads; i++, calls++) await appS3.send(new GetObjectCommand({ Bucket: bucket, Key: rnd.pick(keys) }));
          if (business && rnd.next() < 0.6) {
            await analystS3.send(new ListBucketsCommand({}));
            await analystS3.send(new ListObjectsV2Command({ Bucket: bucket }));
            const n = rnd.int(0, 6);
            for (let i = 0; i < n; i++) await analystS3.send(new GetObjectCommand({ Bucket: bucket, Key: rnd.pick(keys) }));
            calls += 2 + n;
          }
          await a.c.gateway.clock.advance(1800_000);
        }
      };
      const anomalies = async () => (await findings(a)).filter((f) => f.type.endsWith('S3/AnomalousBehavior'));
      // Learning: ordinary use, and a burst no baseline would allow (a backup job).
      const burst = await userKey(a, 'backup', ['s3:GetObject', 's3:ListBucket']);
      const backup = a.c.client(S3Client, { credentials: burst, sourceIp: '192.0.2.30' });
      for (let i = 0; i < 2 * S3_ANOMALY.minReads; i++) await backup.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i % keys.length] }));
      // Every principal learns for learningMs from its first call: a day more covers the analyst's first day.
      while (a.c.gateway.clock.nowMs() < createdAt + gd.learningMs + 24 * 3600_000) await hour();
      const learned = calls;
      expect(await anomalies()).toEqual([]);
      // A day of the same ordinary use after learning: no anomaly finding.
      for (let i = 0; i < 24; i++) await hour();
      const afterLearning = calls - learned;
      const quiet = await anomalies();
      console.log(`S3 profiles: ${learned} ordinary calls while learning, ${afterLearning} in the day after: ${quiet.length} anomaly findings`);
      expect(quiet).toEqual([]);
      expect(afterLearning).toBeGreaterThan(120);

      // The analyst's key, stolen: the whole bucket listed page by page and every object downloaded, three times over.
      const thief = a.c.client(S3Client, { credentials: analyst, sourceIp: OUTSIDE });
      for (let i = 0; i < 60; i++) await thief.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 5 }));
      for (let round = 0; round < 3; round++) for (const k of keys) await thief.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      // A discovery API the analyst never called while learning (it fails: the bucket has no policy).
      await thief.send(new GetBucketPolicyCommand({ Bucket: bucket })).catch(() => undefined);
      const found = await anomalies();
      const byKind = (type: string) => found.filter((f) => f.type === type);
      const exfil = byKind('Exfiltration:S3/AnomalousBehavior');
      expect(exfil).toHaveLength(1);
      const discovery = byKind('Discovery:S3/AnomalousBehavior');
      expect(discovery).toHaveLength(2);
      const info = (f: Finding) => JSON.parse(f.service.additionalInfo.value) as Record<string, Record<string, unknown>>;
      const e = info(exfil[0]!);
      expect(exfil[0]).toMatchObject({
        severity: 8, resource: { resourceType: 'S3Bucket', accessKeyDetails: { accessKeyId: analyst.accessKeyId, userName: 'analyst', userType: 'IAMUser' }, s3BucketDetails: [{ name: bucket }] },
        service: { featureName: 'S3DataEvents', action: { awsApiCallAction: { api: 'GetObject', serviceName: 's3.amazonaws.com', remoteIpDetails: { ipAddressV4: OUTSIDE } } } },
      });
      const learnedReads = e['profiledBehavior']!['maxObjectReadsPerHour'] as number;
      expect(e['unusualBehavior']).toMatchObject({ objectReadsInHour: threshold(learnedReads, S3_ANOMALY.minReads) + 1, objectReadsInHourThreshold: threshold(learnedReads, S3_ANOMALY.minReads) });
      expect(e['anomalies']).toEqual({ anomalousAPIs: 's3.amazonaws.com:[GetObject:success]' });
      expect(e['profiledBehavior']!['baselinePeriod']).toEqual({ start: expect.any(String), end: expect.any(String) });
      const period = e['profiledBehavior']!['baselinePeriod'] as { start: string; end: string };
      expect(Date.parse(period.end) - Date.parse(period.start)).toBe(gd.learningMs);
      expect(Date.parse(period.start)).toBeGreaterThanOrEqual(createdAt);
      const unusualApi = discovery.find((f) => info(f)['unusualBehavior']!['isUnusualAPI'] === true)!;
      expect(unusualApi).toMatchObject({ severity: 2, service: { action: { awsApiCallAction: { api: 'GetBucketPolicy' } } } });
      expect(info(unusualApi)['anomalies']).toEqual({ anomalousAPIs: 's3.amazonaws.com:[GetBucketPolicy:failed]' });
      expect(Object.keys(info(unusualApi)['profiledBehavior']!['profiledAPIs'] as object).sort()).toEqual(['ListBuckets', 'ListObjectsV2']);
      const listing = discovery.find((f) => f !== unusualApi)!;
      expect(info(listing)['unusualBehavior']).toMatchObject({ listCallsInHour: expect.any(Number) });
      // Repeats in the same excursion are one occurrence; a second excursion an hour later raises the count.
      expect(exfil[0]!.service.count).toBe(1);
      await a.c.gateway.clock.advance(2 * 3600_000);
      for (let round = 0; round < 3; round++) for (const k of keys) await thief.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
      expect((await anomalies()).find((f) => f.type === 'Exfiltration:S3/AnomalousBehavior')!.service.count).toBe(2);
      // The backup job's burst during learning is its baseline: the same again is not unusual.
      for (let i = 0; i < 2 * S3_ANOMALY.minReads; i++) await backup.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i % keys.length] }));
      expect((await anomalies()).filter((f) => f.resource['accessKeyDetails'] && (f.resource['accessKeyDetails'] as { userName: string }).userName === 'backup')).toEqual([]);
      expect(detectorId).toBeTruthy();
    } finally {
      gd.learningMs = learningBefore;
    }
  });
});
