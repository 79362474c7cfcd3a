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

describe.skipIf(!hasBoto3)('botocore (the AWS CLI) through the gateway', () => {
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
