// The AWS CLI's engine (botocore) against the gateway: students work by hand with the AWS CLI, so its
// signatures (query, JSON, S3 with payload hashes) must verify and its error parsing must work.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLabCloud } from '../helpers/cloud.ts';

const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
const { cloud } = useLabCloud();

const SCRIPT = `
import json, os, sys, boto3, botocore
from botocore.config import Config
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
kw = dict(endpoint_url=os.environ["EP"], region_name="us-east-1", aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"], config=cfg)
out = {}
out["whoami"] = boto3.client("sts", **kw).get_caller_identity()["Arn"]
iam = boto3.client("iam", **kw)
iam.create_user(UserName="cli-user")
out["users"] = [u["UserName"] for u in iam.list_users()["Users"]]
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="cli-bucket")
s3.put_object(Bucket="cli-bucket", Key="dir/a b.txt", Body=b"hello")
out["object"] = s3.get_object(Bucket="cli-bucket", Key="dir/a b.txt")["Body"].read().decode()
out["presigned"] = s3.generate_presigned_url("get_object", Params={"Bucket": "cli-bucket", "Key": "dir/a b.txt"}, ExpiresIn=300)
v4 = boto3.client("s3", **{**kw, "config": Config(s3={"addressing_style": "path"}, signature_version="s3v4")})
out["presignedV4"] = v4.generate_presigned_url("get_object", Params={"Bucket": "cli-bucket", "Key": "dir/a b.txt"}, ExpiresIn=300)
ct = boto3.client("cloudtrail", **kw)
out["events"] = len(ct.lookup_events(MaxResults=5)["Events"])
bad = boto3.client("iam", **{**kw, "aws_secret_access_key": "wrong"})
try:
    bad.list_users()
    out["bad"] = "allowed"
except botocore.exceptions.ClientError as e:
    out["bad"] = e.response["Error"]["Code"]
print(json.dumps(out))
`;

// GuardDuty (REST-JSON) as boto3 calls it: botocore builds each request from its own service model
// and parses every answer with it (timestamps, maps, nested lists), so a shape we get wrong breaks here.
const GUARDDUTY = `
import json, os, boto3, botocore
from botocore.config import Config
kw = dict(endpoint_url=os.environ["EP"], region_name="us-east-1", aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"], config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
gd = boto3.client("guardduty", **kw)
s3 = boto3.client("s3", **kw)
out = {}
det = gd.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES", Features=[{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}])["DetectorId"]
got = gd.get_detector(DetectorId=det)
out["frequency"] = got["FindingPublishingFrequency"]
out["features"] = sorted(f["Name"] for f in got["Features"] if f["Status"] == "ENABLED")
out["createdAt"] = type(got["CreatedAt"]).__name__
gd.create_sample_findings(DetectorId=det, FindingTypes=["UnauthorizedAccess:EC2/SSHBruteForce", "Recon:IAMUser/MaliciousIPCaller.Custom", "Exfiltration:S3/AnomalousBehavior"])
ids = gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {"severity": {"Gte": 4}}}, SortCriteria={"AttributeName": "severity", "OrderBy": "DESC"})["FindingIds"]
fs = gd.get_findings(DetectorId=det, FindingIds=ids)["Findings"]
out["high"] = [(f["Type"], f["Severity"], f["Resource"]["ResourceType"]) for f in fs]
ssh = gd.get_findings(DetectorId=det, FindingIds=gd.list_findings(DetectorId=det, FindingCriteria={"Criterion": {"type": {"Eq": ["UnauthorizedAccess:EC2/SSHBruteForce"]}}})["FindingIds"])["Findings"][0]
out["sshAction"] = ssh["Service"]["Action"]["ActionType"]
out["sshPort"] = ssh["Service"]["Action"]["NetworkConnectionAction"]["LocalPortDetails"]["Port"]
out["sshSeen"] = type(ssh["Service"]["EventFirstSeen"]).__name__
stats = gd.get_findings_statistics(DetectorId=det, FindingStatisticTypes=["COUNT_BY_SEVERITY"])["FindingStatistics"]["CountBySeverity"]
out["bySeverity"] = stats
s3.create_bucket(Bucket="intel-bucket")
s3.put_object(Bucket="intel-bucket", Key="threats.txt", Body=b"203.0.113.7\\n")
ts = gd.create_threat_intel_set(DetectorId=det, Name="feed", Format="TXT", Location="https://s3.amazonaws.com/intel-bucket/threats.txt", Activate=True)["ThreatIntelSetId"]
out["threatStatus"] = gd.get_threat_intel_set(DetectorId=det, ThreatIntelSetId=ts)["Status"]
gd.create_filter(DetectorId=det, Name="scanner", Action="ARCHIVE", Rank=1, FindingCriteria={"Criterion": {"type": {"Eq": ["Recon:EC2/PortProbeUnprotectedPort"]}}})
out["filters"] = gd.list_filters(DetectorId=det)["FilterNames"]
try:
    gd.create_detector(Enable=True)
    out["second"] = "allowed"
except botocore.exceptions.ClientError as e:
    out["second"] = e.response["Error"]["Code"]
print(json.dumps(out))
`;

describe.skipIf(!hasBoto3)('botocore (the AWS CLI) through the gateway', () => {
  it('guardduty: detectors, sample findings with criteria, statistics, a threat list from S3, filters, errors', async () => {
    const c = cloud();
    const root = c.createAccount();
    const { stdout } = await promisify(execFile)('python3', ['-c', GUARDDUTY], {
      env: { ...process.env, EP: c.url, AK: root.accessKeyId, SK: root.secretAccessKey },
      encoding: 'utf8',
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out['frequency']).toBe('FIFTEEN_MINUTES');
    expect(out['features']).toContain('S3_DATA_EVENTS');
    // botocore parsed the ISO 8601 strings into datetimes with its own model.
    expect(out['createdAt']).toBe('str'); // GetDetector's createdAt is a string in GuardDuty's model
    expect(out['sshSeen']).toBe('str');
    // severity >= 4, highest first: the HIGH S3 exfiltration, then the MEDIUM custom-list caller (SSH brute force is LOW)
    expect(out['high']).toEqual([['Exfiltration:S3/AnomalousBehavior', 8, 'S3Bucket'], ['Recon:IAMUser/MaliciousIPCaller.Custom', 5, 'AccessKey']]);
    expect(out['sshAction']).toBe('NETWORK_CONNECTION');
    expect(out['sshPort']).toBe(22);
    // LOW: the SSH sample and Policy:IAMUser/RootCredentialUsage, as the script signs with root's keys.
    expect(out['bySeverity']).toEqual({ '2.0': 2, '5.0': 1, '8.0': 1 });
    expect(out['threatStatus']).toBe('ACTIVE');
    expect(out['filters']).toEqual(['scanner']);
    expect(out['second']).toBe('BadRequestException');
  });


  it('signs, is verified, and parses errors', async () => {
    const c = cloud();
    const root = c.createAccount();
    // Asynchronously: the gateway answers from this process's event loop.
    const { stdout } = await promisify(execFile)('python3', ['-c', SCRIPT], {
      env: { ...process.env, EP: c.url, AK: root.accessKeyId, SK: root.secretAccessKey },
      encoding: 'utf8',
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out['whoami']).toBe(`arn:aws:iam::${root.accountId}:root`);
    expect(out['users']).toContain('cli-user');
    expect(out['object']).toBe('hello');
    expect(out['events']).toBeGreaterThan(0);
    expect(out['bad']).toBe('SignatureDoesNotMatch');
    // Presigned URLs (SigV2, boto3's default for S3, and SigV4) work without credentials of their own,
    // and stop working when anything signed is changed.
    for (const key of ['presigned', 'presignedV4']) {
      const url = String(out[key]);
      const res = await fetch(url);
      expect(res.status, key).toBe(200);
      expect(await res.text()).toBe('hello');
      const tampered = await fetch(url.replace('a%20b.txt', 'a%20c.txt'));
      expect(tampered.status, key).toBe(403);
    }
  });
});
