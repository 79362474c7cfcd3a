// S3 Object Lock through boto3 (the AWS CLI's engine), compared with AWS's documented behaviour (S3 User
// Guide "Locking objects with Object Lock", "Managing Object Lock"; API reference): students and the
// grader's reviewers check anchors by hand with the CLI, so botocore's requests (its checksums, its
// bypass header) and its error parsing must meet the same rules as the SDK v3 tests
// (s3-object-lock.test.ts).
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLabCloud } from '../helpers/cloud.ts';

const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
const { cloud } = useLabCloud();

// Each step prints its outcome: "ok", or the error code and message as botocore parsed them.
const SCRIPT = `
import json, os, datetime, boto3, botocore
from botocore.config import Config
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
kw = dict(endpoint_url=os.environ["EP"], region_name="us-east-1", config=cfg)
root = dict(aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"])
s3 = boto3.client("s3", **kw, **root)
iam = boto3.client("iam", **kw, **root)
now = datetime.datetime.fromtimestamp(int(os.environ["NOW_MS"]) / 1000, tz=datetime.timezone.utc)
day = datetime.timedelta(days=1)
out = {}
def step(name, fn):
    try:
        r = fn()
        out[name] = "ok"
        return r
    except botocore.exceptions.ClientError as e:
        out[name] = e.response["Error"]["Code"] + ": " + e.response["Error"].get("Message", "")

def user(name, actions):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("s3", **kw, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])

b = "cli-anchors"
s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
out["config"] = s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
step("suspend", lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"}))
step("default", lambda: s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}))
out["configWithRule"] = s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
# botocore sends a checksum with every upload (as AWS requires with Object Lock).
v1 = s3.put_object(Bucket=b, Key="checkpoint", Body=b"size 1")["VersionId"]
r = s3.get_object_retention(Bucket=b, Key="checkpoint", VersionId=v1)["Retention"]
out["defaultMode"] = r["Mode"]
out["defaultUntilMs"] = int(r["RetainUntilDate"].timestamp() * 1000)
step("deleteCompliance", lambda: s3.delete_object(Bucket=b, Key="checkpoint", VersionId=v1))
step("deleteComplianceBypass", lambda: s3.delete_object(Bucket=b, Key="checkpoint", VersionId=v1, BypassGovernanceRetention=True))
step("shortenCompliance", lambda: s3.put_object_retention(Bucket=b, Key="checkpoint", VersionId=v1, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": now + datetime.timedelta(hours=1)}))
step("toGovernance", lambda: s3.put_object_retention(Bucket=b, Key="checkpoint", VersionId=v1, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + 3 * day}, BypassGovernanceRetention=True))
step("extendCompliance", lambda: s3.put_object_retention(Bucket=b, Key="checkpoint", VersionId=v1, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": now + 3 * day}))
out["marker"] = s3.delete_object(Bucket=b, Key="checkpoint").get("DeleteMarker")
out["survivor"] = s3.get_object(Bucket=b, Key="checkpoint", VersionId=v1)["Body"].read().decode()
step("pastDate", lambda: s3.put_object(Bucket=b, Key="p", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=now - day))

g = s3.put_object(Bucket=b, Key="gov", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=now + day)["VersionId"]
deleter = user("deleter", ["s3:DeleteObject", "s3:DeleteObjectVersion"])
step("govNoPermission", lambda: deleter.delete_object(Bucket=b, Key="gov", VersionId=g, BypassGovernanceRetention=True))
res = deleter.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "gov", "VersionId": g}, {"Key": "checkpoint", "VersionId": v1}]})
out["batchErrors"] = sorted([e["Key"], e["Code"], e["Message"]] for e in res.get("Errors", []))
step("govRootNoHeader", lambda: s3.delete_object(Bucket=b, Key="gov", VersionId=g))
step("govRootBypass", lambda: s3.delete_object(Bucket=b, Key="gov", VersionId=g, BypassGovernanceRetention=True))

h = s3.put_object(Bucket=b, Key="held", Body=b"x", ObjectLockLegalHoldStatus="ON", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=now + day)["VersionId"]
out["hold"] = s3.get_object_legal_hold(Bucket=b, Key="held", VersionId=h)["LegalHold"]["Status"]
step("heldBypass", lambda: s3.delete_object(Bucket=b, Key="held", VersionId=h, BypassGovernanceRetention=True))
step("deleteBucket", lambda: s3.delete_bucket(Bucket=b))
print(json.dumps(out))
`;

describe.skipIf(!hasBoto3)('S3 Object Lock through boto3', () => {
  it('behaves as AWS documents: compliance for everyone, governance bypass with permission, legal hold, default retention, errors', async () => {
    const c = cloud();
    const root = c.createAccount();
    const nowMs = c.gateway.clock.nowMs();
    const { stdout } = await promisify(execFile)('python3', ['-c', SCRIPT], {
      env: { ...process.env, EP: c.url, AK: root.accessKeyId, SK: root.secretAccessKey, NOW_MS: String(nowMs) },
      encoding: 'utf8',
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    const LOCKED = 'AccessDenied: Access Denied because object protected by object lock.';
    expect(out['config']).toEqual({ ObjectLockEnabled: 'Enabled' });
    expect(out['suspend']).toBe('InvalidBucketState: An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    expect(out['default']).toBe('ok');
    expect(out['configWithRule']).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } });
    expect(out['defaultMode']).toBe('COMPLIANCE');
    expect(Math.abs((out['defaultUntilMs'] as number) - (nowMs + 86_400_000))).toBeLessThan(60_000);
    expect(out['deleteCompliance']).toBe(LOCKED);
    expect(out['deleteComplianceBypass']).toBe(LOCKED);
    expect(out['shortenCompliance']).toBe(LOCKED);
    expect(out['toGovernance']).toBe(LOCKED);
    expect(out['extendCompliance']).toBe('ok');
    expect(out['marker']).toBe(true);
    expect(out['survivor']).toBe('size 1');
    expect(out['pastDate']).toBe('InvalidArgument: The retain until date must be in the future!');
    expect(out['govNoPermission']).toBe('AccessDenied: Access Denied');
    expect(out['batchErrors']).toEqual([['checkpoint', 'AccessDenied', LOCKED.slice('AccessDenied: '.length)], ['gov', 'AccessDenied', LOCKED.slice('AccessDenied: '.length)]]);
    expect(out['govRootNoHeader']).toBe(LOCKED);
    expect(out['govRootBypass']).toBe('ok');
    expect(out['hold']).toBe('ON');
    expect(out['heldBypass']).toBe(LOCKED);
    expect(out['deleteBucket']).toMatch(/^BucketNotEmpty: /);
  });
});
