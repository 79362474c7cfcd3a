// GetFunction's Code.Location: AWS hands out a presigned URL to the deployment package, valid 10
// minutes; moto's points at a host of its own no client can reach. The lab cloud hands out a link of
// its own (tools such as Prowler download the code to look for secrets).
import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { LambdaClient, CreateFunctionCommand, GetFunctionCommand } from '@aws-sdk/client-lambda';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

describe('Lambda GetFunction code location', () => {
  it('is a link to the deployment package on the lab cloud, valid 10 minutes of lab time', async () => {
    const c = cloud();
    const root = c.createAccount();
    const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    await c.client(IAMClient, { credentials }).send(new CreateRoleCommand({ RoleName: 'fn', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
    const zip = zipSync({ 'index.mjs': strToU8('export const handler = async () => "API_KEY=not-a-secret";') });
    const lambda = c.client(LambdaClient, { credentials });
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'fn', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${root.accountId}:role/fn`, Code: { ZipFile: zip } }));
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }));
    const location = got.Code?.Location ?? '';
    expect(location.startsWith(`${c.url}/_seclab/lambda-code/`)).toBe(true);
    // No credentials, no control token: the URL is the secret, as a presigned URL is.
    const res = await fetch(location);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);
    // Another GetFunction gives another link; a made-up token finds nothing.
    const again = (await lambda.send(new GetFunctionCommand({ FunctionName: 'fn' }))).Code?.Location;
    expect(again).not.toBe(location);
    expect((await fetch(`${c.url}/_seclab/lambda-code/${'A'.repeat(32)}`)).status).toBe(404);
    // Ten minutes of lab time later the link has expired.
    await c.gateway.clock.advance(11 * 60_000);
    expect((await fetch(location)).status).toBe(404);
  });
});
