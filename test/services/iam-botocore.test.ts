// IAM through botocore, as Pacu, cloudsplaining and Prowler drive it: their paginators, their
// reads of GetAccountAuthorizationDetails, the credential report and the operations moto lacks.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLabCloud } from '../helpers/cloud.ts';

const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
const { cloud } = useLabCloud();

const SCRIPT = `
import json, os, csv, io, boto3, botocore
from botocore.config import Config
kw = dict(endpoint_url=os.environ["EP"], region_name="us-east-1", aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"], config=Config(retries={"max_attempts": 1}))
iam = boto3.client("iam", **kw)
doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
for i in range(3):
    iam.create_group(GroupName=f"g{i}")
    iam.create_user(UserName=f"u{i}")
    iam.create_instance_profile(InstanceProfileName=f"ip{i}")
iam.create_access_key(UserName="u0")
iam.create_account_alias(AccountAlias="lab")
arn = iam.create_policy(PolicyName="p", PolicyDocument=doc)["Policy"]["Arn"]
iam.create_virtual_mfa_device(VirtualMFADeviceName="d")
out = {}
# Pacu iam__enum_users_roles_policies_groups and friends read IsTruncated/Marker by hand.
def walk(op, key, **args):
    items, marker, pages = [], None, 0
    while True:
        r = getattr(iam, op)(**args, MaxItems=1, **({"Marker": marker} if marker else {}))
        items += r[key]; pages += 1
        if not r["IsTruncated"]:
            return [len(items), pages]
        marker = r["Marker"]
out["groups"] = walk("list_groups", "Groups")
out["keys"] = walk("list_access_keys", "AccessKeyMetadata", UserName="u0")
out["profiles"] = walk("list_instance_profiles", "InstanceProfiles")
out["certs"] = walk("list_signing_certificates", "Certificates", UserName="u0")
out["ssh"] = walk("list_ssh_public_keys", "SSHPublicKeys", UserName="u0")
out["aliases"] = walk("list_account_aliases", "AccountAliases")
out["versions"] = walk("list_policy_versions", "Versions", PolicyArn=arn)
out["users"] = walk("list_users", "Users")
# cloudsplaining: get_account_authorization_details paginated, reading PolicyName/PolicyId.
pages, policies = 0, []
for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=["LocalManagedPolicy", "AWSManagedPolicy"]):
    pages += 1
    policies += [(p["PolicyName"], p["PolicyId"], p["Arn"]) for p in page["Policies"]]
out["gaad"] = {"pages": pages, "policies": len(policies), "mine": [p for p in policies if p[2] == arn]}
out["mfa"] = sorted(iam.list_virtual_mfa_devices()["VirtualMFADevices"][0].keys())
# Prowler: the credential report's root row, the account summary, the operations moto lacks.
iam.generate_credential_report()
rows = list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))
out["root"] = {k: rows[0][k] for k in ("user", "mfa_active", "access_key_1_active", "access_key_2_active")}
out["summary"] = {k: iam.get_account_summary()["SummaryMap"][k] for k in ("AccountAccessKeysPresent", "AccountMFAEnabled")}
out["ssc"] = iam.list_service_specific_credentials(UserName="u0")["ServiceSpecificCredentials"]
job = iam.generate_service_last_accessed_details(Arn=iam.get_user(UserName="u0")["User"]["Arn"])["JobId"]
out["job"] = iam.get_service_last_accessed_details(JobId=job)["JobStatus"]
try:
    iam.list_organizations_features()
    out["orgs"] = "ok"
except botocore.exceptions.ClientError as e:
    out["orgs"] = e.response["Error"]["Code"]
try:
    iam.delete_user(UserName="u0")
    out["delete"] = "ok"
except botocore.exceptions.ClientError as e:
    out["delete"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
`;

describe.skipIf(!hasBoto3)('IAM through botocore (Pacu, cloudsplaining, Prowler)', () => {
  it('pages, names policies, keeps seeds secret, reports root', async () => {
    const c = cloud();
    const root = c.createAccount();
    const { stdout } = await promisify(execFile)('python3', ['-c', SCRIPT], {
      env: { ...process.env, EP: c.url, AK: root.accessKeyId, SK: root.secretAccessKey },
      encoding: 'utf8', maxBuffer: 16 * 1024 * 1024,
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out['groups']).toEqual([3, 3]);
    expect(out['keys']).toEqual([1, 1]);
    expect(out['profiles']).toEqual([3, 3]);
    expect(out['certs']).toEqual([0, 1]);
    expect(out['ssh']).toEqual([0, 1]);
    expect(out['aliases']).toEqual([1, 1]);
    expect(out['versions']).toEqual([1, 1]);
    expect(out['users']).toEqual([3, 3]);
    const gaad = out['gaad'] as { pages: number; policies: number; mine: [string, string, string][] };
    expect(gaad.pages).toBeGreaterThan(10);
    expect(gaad.policies).toBeGreaterThan(1000);
    expect(gaad.mine).toHaveLength(1);
    expect(gaad.mine[0]![0]).toBe('p');
    expect(gaad.mine[0]![1]).toMatch(/^\w+$/);
    expect(out['mfa']).toEqual(['SerialNumber']);
    expect(out['root']).toEqual({ user: '<root_account>', mfa_active: 'false', access_key_1_active: 'false', access_key_2_active: 'false' });
    expect(out['summary']).toEqual({ AccountAccessKeysPresent: 0, AccountMFAEnabled: 0 });
    expect(out['ssc']).toEqual([]);
    expect(out['job']).toBe('COMPLETED');
    expect(out['orgs']).toBe('OrganizationNotFoundException');
    expect(out['delete']).toEqual(['DeleteConflict', 409]);
  }, 180_000);
});
