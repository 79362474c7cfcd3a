// The pinned AWS CLI (seclab's tools venv) against S3 Control and AWS Account Management over HTTPS.
// `aws s3control` sends every request to `<account>.<endpoint host>` (here `<account>.localhost`,
// which this machine does not resolve): with HTTPS_PROXY=$SECLAB_PROXY (the gateway, which tunnels
// to itself only) it reaches the lab cloud, as the README says; without it the CLI cannot connect.
import { lookup } from 'node:dns/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLabCloud } from '../helpers/cloud.ts';
import { ensureTool, run, toolBin, type RunResult } from '../../scripts/tools.ts';

const { cloud } = useLabCloud();

let awsBin = '';
let env: NodeJS.ProcessEnv = {};
let accountId = '';

beforeAll(async () => {
  try {
    await ensureTool('awscli', (l) => console.log(l));
  } catch (e) {
    throw new Error(`the AWS CLI could not be installed for this test: ${(e as Error).message}`);
  }
  awsBin = toolBin('awscli', 'aws');
  const c = cloud();
  expect(c.gateway.tlsUrl, 'the lab cloud serves HTTPS').toBeTruthy();
  const root = c.createAccount();
  accountId = root.accountId;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-awscli-s3c-'));
  writeFileSync(path.join(dir, 'config'), '[default]\n');
  env = {
    PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8',
    AWS_ENDPOINT_URL: c.gateway.tlsUrl!, AWS_CA_BUNDLE: c.caFile!,
    AWS_ACCESS_KEY_ID: root.accessKeyId, AWS_SECRET_ACCESS_KEY: root.secretAccessKey,
    AWS_DEFAULT_REGION: c.region, AWS_REGION: c.region,
    AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
    AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1',
    // $SECLAB_PROXY: the gateway's HTTP listener, an HTTPS proxy to itself.
    HTTPS_PROXY: c.url,
  };
}, 900_000);

function aws(...args: string[]): Promise<RunResult> {
  return run(awsBin, [...args, '--output', 'json', '--cli-read-timeout', '30', '--cli-connect-timeout', '10'], { env, timeoutMs: 90_000 });
}

async function ok(...args: string[]): Promise<any> {
  const r = await aws(...args);
  expect(r.code, `aws ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
}

async function fails(code: string, ...args: string[]): Promise<string> {
  const r = await aws(...args);
  expect(r.code, `aws ${args.join(' ')} should fail`).not.toBe(0);
  expect(r.stderr).toContain(`(${code})`);
  expect(r.stderr).not.toMatch(/<html|Traceback|seclab gateway error/i);
  return r.stderr;
}

describe('the AWS CLI: s3control, account, and EC2/SSM gaps through the lab cloud', { timeout: 300_000 }, () => {
  it('s3control: account Block Public Access (404 before any), put, get, delete; access point lists; CloudTrail', async () => {
    await fails('NoSuchPublicAccessBlockConfiguration', 's3control', 'get-public-access-block', '--account-id', accountId);
    await ok('s3control', 'put-public-access-block', '--account-id', accountId, '--public-access-block-configuration',
      'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true');
    const got = await ok('s3control', 'get-public-access-block', '--account-id', accountId);
    expect(got.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    await ok('s3control', 'delete-public-access-block', '--account-id', accountId);
    await fails('NoSuchPublicAccessBlockConfiguration', 's3control', 'get-public-access-block', '--account-id', accountId);
    const aps = await ok('s3control', 'list-access-points', '--account-id', accountId);
    expect(aps.AccessPointList ?? []).toEqual([]);
    const mraps = await ok('s3control', 'list-multi-region-access-points', '--account-id', accountId);
    expect(mraps.AccessPoints ?? []).toEqual([]);
    // Another account's id: AccessDenied, as AWS answers.
    await fails('AccessDenied', 's3control', 'get-public-access-block', '--account-id', cloud().createAccount().accountId);
    const trail = cloud().gateway.service('cloudtrail').trail.all(accountId).filter((r) => r.eventSource === 's3.amazonaws.com');
    expect(trail.map((r) => r.eventName)).toEqual(expect.arrayContaining(['GetPublicAccessBlock', 'PutPublicAccessBlock', 'DeletePublicAccessBlock', 'ListAccessPoints', 'ListMultiRegionAccessPoints']));
    expect(trail.find((r) => r.eventName === 'PutPublicAccessBlock')?.errorCode).toBeUndefined();
  });

  it('s3control without the proxy: works only where <account>.localhost resolves (why SECLAB_PROXY exists)', async () => {
    // systemd-resolved resolves *.localhost; plain glibc (containers, CI) does not.
    const resolves = await lookup(`${accountId}.localhost`).then(() => true, () => false);
    const r = await run(awsBin, ['s3control', 'list-access-points', '--account-id', accountId, '--output', 'json', '--cli-connect-timeout', '5'], {
      env: { ...env, HTTPS_PROXY: '' }, timeoutMs: 90_000,
    });
    if (resolves) {
      expect(r.code, r.stderr).toBe(0);
    } else {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Could not connect|Name or service not known|getaddrinfo|EndpointConnectionError/i);
    }
  });

  it('account: contact information and alternate contacts', async () => {
    expect((await ok('account', 'get-contact-information')).ContactInformation).toMatchObject({ FullName: 'Lab Student' });
    await ok('account', 'put-contact-information', '--contact-information',
      'FullName=Ana Lopez,AddressLine1=1 Main St,City=Seattle,PostalCode=98101,CountryCode=US,PhoneNumber=+12065550100');
    const info = await ok('account', 'get-contact-information');
    expect(info.ContactInformation).toMatchObject({ FullName: 'Ana Lopez', City: 'Seattle', CountryCode: 'US' });
    await fails('ResourceNotFoundException', 'account', 'get-alternate-contact', '--alternate-contact-type', 'SECURITY');
    await ok('account', 'put-alternate-contact', '--alternate-contact-type', 'SECURITY', '--name', 'SOC', '--title', 'Security team',
      '--email-address', 'soc@example.com', '--phone-number', '+12065550199');
    const sec = await ok('account', 'get-alternate-contact', '--alternate-contact-type', 'SECURITY');
    expect(sec.AlternateContact).toEqual({ AlternateContactType: 'SECURITY', Name: 'SOC', Title: 'Security team', EmailAddress: 'soc@example.com', PhoneNumber: '+12065550199' });
    await fails('ValidationException', 'account', 'get-alternate-contact', '--alternate-contact-type', 'PAYROLL');
    await ok('account', 'delete-alternate-contact', '--alternate-contact-type', 'SECURITY');
    await fails('ResourceNotFoundException', 'account', 'delete-alternate-contact', '--alternate-contact-type', 'SECURITY');
    const names = cloud().gateway.service('cloudtrail').trail.all(accountId).filter((r) => r.eventSource === 'account.amazonaws.com').map((r) => r.eventName);
    expect(names).toEqual(expect.arrayContaining(['GetContactInformation', 'PutContactInformation', 'PutAlternateContact', 'GetAlternateContact', 'DeleteAlternateContact']));
  });

  it('ec2 and ssm calls Prowler makes that moto lacks: a new account\'s answers', async () => {
    expect(await ok('ec2', 'get-image-block-public-access-state')).toEqual({ ImageBlockPublicAccessState: 'block-new-sharing', ManagedBy: 'account' });
    expect(await ok('ec2', 'get-snapshot-block-public-access-state')).toEqual({ State: 'unblocked', ManagedBy: 'account' });
    const defaults = await ok('ec2', 'get-instance-metadata-defaults');
    expect(defaults.AccountLevel ?? {}).toEqual({});
    expect((await ok('ec2', 'describe-client-vpn-endpoints')).ClientVpnEndpoints ?? []).toEqual([]);
    expect(await ok('ssm', 'describe-instance-information')).toEqual({ InstanceInformationList: [] });
    expect(await ok('ssm', 'list-resource-compliance-summaries')).toEqual({ ResourceComplianceSummaryItems: [] });
    await fails('InvalidFilterKey', 'ssm', 'describe-instance-information', '--filters', 'Key=NoSuchKey,Values=x');
  });
});
