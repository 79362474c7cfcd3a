// Lambda handlers are a submission's code: each invocation runs in the sandbox (where the machine has
// one), reaching the gateway and nothing else, and packages over AWS's quotas are refused before
// anything is unpacked.
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { useLabCloud } from '../helpers/cloud.ts';
import { packageProblem, UNZIPPED_LIMIT } from '../../src/cloud/services/lambda/package.ts';

const { cloud } = useLabCloud();

const NOSY = `
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
export const handler = async () => {
  const root = new URL('../../', import.meta.resolve('seclab/kit'));
  const out = {
    pids: readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length,
    solutions: existsSync(new URL('solutions', root)),
    labs: existsSync(new URL('labs', root)),
    uid: process.getuid(),
  };
  out.control = await fetch(process.env.AWS_ENDPOINT_URL + '/_seclab/accounts', { method: 'POST' }).then((r) => r.status, (e) => e.message);
  const ports = readFileSync('/proc/net/tcp', 'utf8').split('\\n').slice(1).filter((l) => l.trim().split(/\\s+/)[3] === '0A');
  out.listening = ports.length;
  out.identity = (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn;
  return out;
};`;

describe('Lambda handlers in the sandbox', () => {
  it('see their own package and the gateway only, and are reported when they reach further', async () => {
    const c = cloud();
    const root = c.createAccount();
    const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    await c.client(IAMClient, { credentials: creds }).send(new CreateRoleCommand({ RoleName: 'nosy', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const lambda = c.client(LambdaClient, { credentials: creds });
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'nosy', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 10,
      Role: `arn:aws:iam::${root.accountId}:role/nosy`, Code: { ZipFile: zipSync({ 'index.mjs': strToU8(NOSY) }) },
    }));
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'nosy' }));
    const out = JSON.parse(Buffer.from(r.Payload!).toString()) as Record<string, unknown>;
    expect(r.FunctionError, JSON.stringify(out)).toBeUndefined();
    // It works through the gateway with its role's credentials either way.
    expect(out['identity']).toBe(`arn:aws:sts::${root.accountId}:assumed-role/nosy/nosy`);
    if (c.sandbox !== 'bwrap') return; // a machine without bubblewrap: nothing more is promised
    expect(out).toMatchObject({ solutions: false, labs: false, control: 403, listening: 1 });
    expect(out['pids']).toBeLessThanOrEqual(3);
    expect(c.gateway.violationsOf(root.accountId)).toEqual(['Lambda function nosy: called the lab cloud\'s control endpoint POST /_seclab/accounts']);
  });

  it('may use a role another account lets it assume; another account\'s own keys are an isolation violation', async () => {
    const c = cloud();
    if (c.sandbox !== 'bwrap') return;
    const a = c.createAccount();
    const b = c.createAccount();
    const asA = { credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey } };
    const asB = { credentials: { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey } };
    const trustLambda = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    await c.client(IAMClient, asA).send(new CreateRoleCommand({ RoleName: 'partner', AssumeRolePolicyDocument: trustLambda }));
    await c.client(IAMClient, asA).send(new PutRolePolicyCommand({ RoleName: 'partner', PolicyName: 'assume', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${b.accountId}:role/reader` }] }) }));
    await c.client(IAMClient, asB).send(new CreateRoleCommand({ RoleName: 'reader', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.accountId}:root` }, Action: 'sts:AssumeRole' }] }) }));
    const code = `import { STSClient, AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
      export const handler = async (event) => {
        const out = {};
        const r = await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: event.role, RoleSessionName: 'partner' }));
        const assumed = new STSClient({ credentials: { accessKeyId: r.Credentials.AccessKeyId, secretAccessKey: r.Credentials.SecretAccessKey, sessionToken: r.Credentials.SessionToken } });
        out.assumed = (await assumed.send(new GetCallerIdentityCommand({}))).Account;
        out.stolen = await new STSClient({ credentials: event.stolen }).send(new GetCallerIdentityCommand({})).then((x) => x.Account, (e) => e.name);
        return out;
      };`;
    const lambda = c.client(LambdaClient, asA);
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'partner', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30,
      Role: `arn:aws:iam::${a.accountId}:role/partner`, Code: { ZipFile: zipSync({ 'index.mjs': strToU8(code) }) },
    }));
    const r = await lambda.send(new InvokeCommand({ FunctionName: 'partner', Payload: Buffer.from(JSON.stringify({ role: `arn:aws:iam::${b.accountId}:role/reader`, stolen: asB.credentials })) }));
    const out = JSON.parse(Buffer.from(r.Payload!).toString()) as Record<string, unknown>;
    expect(r.FunctionError, JSON.stringify(out)).toBeUndefined();
    expect(out).toEqual({ assumed: b.accountId, stolen: 'InvalidClientTokenId' });
    expect(c.gateway.violationsOf(a.accountId)).toEqual([`Lambda function partner: used credentials of another account (${b.accountId})`]);
  });

  it('time a function waits for a slow lab cloud does not count against its timeout; its own time does', async () => {
    const c = cloud();
    const root = c.createAccount();
    const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    await c.client(IAMClient, { credentials: creds }).send(new CreateRoleCommand({ RoleName: 'patient', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const lambda = c.client(LambdaClient, { credentials: creds });
    const code = `import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
      const sts = new STSClient({});
      export const handler = async (event) => {
        if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
        for (let i = 0; i < 3; i++) await sts.send(new GetCallerIdentityCommand({}));
        return 'done';
      };`;
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'patient', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 1,
      Role: `arn:aws:iam::${root.accountId}:role/patient`, Code: { ZipFile: zipSync({ 'index.mjs': strToU8(code) }) },
    }));
    // The lab cloud answers the function's own calls 1.5 s late (a machine grading a whole class).
    const gw = c.gateway as unknown as { process: (...a: unknown[]) => Promise<unknown> };
    const original = gw.process.bind(c.gateway);
    gw.process = async (...a: unknown[]) => {
      const signed = a[0] as { headers: Record<string, string> };
      if (/Credential=ASIA/.test(signed.headers['authorization'] ?? '')) await new Promise((r) => setTimeout(r, 1500));
      return original(...a);
    };
    try {
      const waited = await lambda.send(new InvokeCommand({ FunctionName: 'patient', Payload: Buffer.from('{}') }));
      expect(waited.FunctionError, Buffer.from(waited.Payload!).toString()).toBeUndefined();
      expect(JSON.parse(Buffer.from(waited.Payload!).toString())).toBe('done');
      const slept = await lambda.send(new InvokeCommand({ FunctionName: 'patient', Payload: Buffer.from('{"sleep": 4000}') }));
      expect(slept.FunctionError).toBe('Unhandled');
      expect(Buffer.from(slept.Payload!).toString()).toMatch(/Task timed out after 1\.00 seconds/);
    } finally {
      gw.process = original;
    }
  });

  it('a function that idles gets at most the lab cloud\'s limit, whatever its Timeout says (AWS allows 900 s)', async () => {
    const c = cloud();
    const root = c.createAccount();
    const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    await c.client(IAMClient, { credentials: creds }).send(new CreateRoleCommand({ RoleName: 'idler', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const lambda = c.client(LambdaClient, { credentials: creds });
    await lambda.send(new CreateFunctionCommand({
      FunctionName: 'idler', Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 900,
      Role: `arn:aws:iam::${root.accountId}:role/idler`, Code: { ZipFile: zipSync({ 'index.mjs': strToU8('export const handler = () => new Promise(() => {});') }) },
    }));
    const runner = c.gateway.service('lambda');
    const max = runner.maxTimeoutS;
    runner.maxTimeoutS = 1;
    try {
      const r = await lambda.send(new InvokeCommand({ FunctionName: 'idler', Payload: Buffer.from('{}') }));
      expect(r.FunctionError).toBe('Unhandled');
      expect(Buffer.from(r.Payload!).toString()).toMatch(/Task timed out after 1\.00 seconds/);
    } finally {
      runner.maxTimeoutS = max;
    }
    expect(max).toBe(60);
  });

  it('packages over AWS\'s quotas are refused before anything is unpacked', async () => {
    // A zip whose entry declares more than 250 MB unzipped (its headers say so; what a bomb declares).
    const bomb = zipSync({ 'index.mjs': new Uint8Array(1024) }, { level: 9 });
    const view = new DataView(bomb.buffer, bomb.byteOffset, bomb.byteLength);
    view.setUint32(22, UNZIPPED_LIMIT + 1, true); // local file header: uncompressed size
    const central = bomb.findIndex((_, i) => view.getUint32(i, true) === 0x02014b50);
    view.setUint32(central + 24, UNZIPPED_LIMIT + 1, true); // central directory: uncompressed size
    expect(packageProblem(bomb)?.message).toMatch(/Unzipped size must be smaller than 262144000 bytes/);
    expect(packageProblem(new Uint8Array([1, 2, 3]))?.code).toBe('InvalidParameterValueException');
    const c = cloud();
    const root = c.createAccount();
    const lambda = c.client(LambdaClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const err = await lambda.send(new CreateFunctionCommand({
      FunctionName: 'bomb', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${root.accountId}:role/x`, Code: { ZipFile: bomb },
    })).catch((e: Error) => e);
    expect((err as Error).name).toBe('InvalidParameterValueException');
  });
});
