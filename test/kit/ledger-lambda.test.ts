// 'seclab/kit/ledger' as a student's functions use it in the lab cloud: a Lambda function that appends
// subscription events to a ledger in S3 and signs its checkpoint with KMS, and a witness function in
// another account invoked through a role assumed there. And the kit's glue on its own.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { zipDir } from 'seclab/kit';
import * as kit from 'seclab/kit/ledger';
import { useLabCloud } from '../helpers/cloud.ts';
import { runtimePaths } from '../../src/cloud/sandbox/launch.ts';

const { cloud } = useLabCloud();
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const payload = (body: object) => ({ awslogs: { data: gzipSync(JSON.stringify(body)).toString('base64') } });
const ctRecord = (id: string, name = 'GetObject') => ({ eventVersion: '1.09', eventID: id, eventSource: 's3.amazonaws.com', eventName: name, eventTime: '2026-01-01T00:00:00Z', awsRegion: 'us-east-1', requestParameters: { bucketName: 'b', key: 'customers/x.json' } });
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe('seclab/kit/ledger on its own', () => {
  it('exports the same names through ledger.mjs (plain Node.js) as the TypeScript kit, and the sandbox may read the library', async () => {
    // 'seclab/kit/ledger' resolves to ledger.mjs here (the package's default condition).
    const ts = await import('../../src/kit/ledger.ts');
    expect(Object.keys(kit).filter((k) => (kit as Record<string, unknown>)[k] !== undefined).sort()).toEqual(Object.keys(ts).sort());
    expect(runtimePaths('/x.mjs').some((p) => p.endsWith(path.join('src', 'controls', 'ledger')))).toBe(true);
  });

  it('turns a subscription batch into entries, and says which messages it skipped and why', () => {
    const batch = kit.decodeSubscription(payload({
      messageType: 'DATA_MESSAGE', owner: '1', logGroup: '/northwind/app/audit', logStream: 'app-1', subscriptionFilters: ['f'],
      logEvents: [
        { id: 'e1', timestamp: 1, message: JSON.stringify(ctRecord('ct-1')) },
        { id: 'e2', timestamp: 2, message: JSON.stringify({ id: 'app-000001', time: '2026-01-01T00:00:01Z', action: 'read' }) },
        { id: 'e3', timestamp: 3, message: 'not json' },
        { id: 'e4', timestamp: 4, message: JSON.stringify({ action: 'read' }) },
      ],
    }));
    const { entries, skipped } = kit.entriesFromSubscription(batch);
    expect(entries.map((e) => [e.kind, e.source])).toEqual([
      ['cloudtrail', { type: 'cloudtrail', eventID: 'ct-1', eventSource: 's3.amazonaws.com', eventName: 'GetObject' }],
      ['app', { type: 'app-audit', logGroup: '/northwind/app/audit', logStream: 'app-1', id: 'app-000001' }],
    ]);
    expect(skipped.map((s) => s.id)).toEqual(['e3', 'e4']);
    expect(skipped[0]!.reason).toMatch(/not JSON/);
    expect(skipped[1]!.reason).toMatch(/without an id/);
    // Entries are what encodeEntry takes (canonical JSON).
    for (const e of entries) expect(kit.decodeEntry(kit.encodeEntry(e as never))).toEqual(e);
  });

  it('wraps a witness as a Lambda handler that refuses an event without a body', async () => {
    const h = kit.witnessHandler({ addCheckpoint: async (b: string) => ({ status: 200, contentType: 'text/plain', body: `got ${b.length}` }) });
    expect(await h({ body: 'abc' })).toEqual({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'got 3' });
    expect((await h({})).statusCode).toBe(400);
    expect((await h(null)).body).toMatch(/expected an event \{ "body"/);
  });
});

describe('seclab/kit/ledger in lab-cloud Lambda functions', () => {
  it('a feed appends and signs with KMS; a witness in another account, invoked through an assumed role, cosigns', async () => {
    const c = cloud();
    const a = c.createAccount();
    const w = c.createAccount();
    const aCreds = { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey };
    const wCreds = { accessKeyId: w.accessKeyId, secretAccessKey: w.secretAccessKey };
    const iam = c.client(IAMClient, { credentials: aCreds });
    const wIam = c.client(IAMClient, { credentials: wCreds });
    const s3 = c.client(S3Client, { credentials: aCreds });
    const origin = `test.example/ledger/${a.accountId}`;
    const bucket = `kit-ledger-${a.accountId}`;
    const stateBucket = `kit-witness-${w.accountId}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await c.client(S3Client, { credentials: wCreds }).send(new CreateBucketCommand({ Bucket: stateBucket }));
    const feedRoleArn = `arn:aws:iam::${a.accountId}:role/feed`;
    const invokerArn = `arn:aws:iam::${w.accountId}:role/invoker`;
    await iam.send(new CreateRoleCommand({ RoleName: 'feed', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }));
    const key = (await c.client(KMSClient, { credentials: aCreds }).send(new CreateKeyCommand({
      KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', BypassPolicyLockoutSafetyCheck: true,
      Policy: doc([
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${a.accountId}:root` }, Action: ['kms:DescribeKey', 'kms:GetPublicKey'], Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: feedRoleArn }, Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*' },
      ]),
    }))).KeyMetadata!;
    await iam.send(new PutRolePolicyCommand({
      RoleName: 'feed', PolicyName: 'p', PolicyDocument: doc([
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] },
        { Effect: 'Allow', Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: key.Arn },
        { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: invokerArn },
      ]),
    }));
    const logVkey = (await kit.kmsSigner(c.client(KMSClient, { credentials: aCreds }), key.Arn!, origin)).vkey;

    // The witness, in the other account.
    const wkey = kit.generateEd25519Key(`witness.test/${w.accountId}`);
    await wIam.send(new CreateRoleCommand({ RoleName: 'witness', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }));
    await wIam.send(new PutRolePolicyCommand({ RoleName: 'witness', PolicyName: 'p', PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${stateBucket}`, `arn:aws:s3:::${stateBucket}/*`] }]) }));
    const wdir = mkdtempSync(path.join(os.tmpdir(), 'kit-witness-'));
    dirs.push(wdir);
    writeFileSync(path.join(wdir, 'index.mjs'), `import { S3Client } from '@aws-sdk/client-s3';
import { S3Store, Witness, witnessHandler } from 'seclab/kit/ledger';
const e = process.env;
export const handler = witnessHandler(new Witness({ skey: e.SKEY, store: new S3Store({ client: new S3Client({ forcePathStyle: true }), bucket: e.BUCKET }), logs: [{ origin: e.ORIGIN, vkeys: [e.VKEY] }], now: () => Date.now() }));
`);
    const wfn = await c.client(LambdaClient, { credentials: wCreds }).send(new CreateFunctionCommand({
      FunctionName: 'witness', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${w.accountId}:role/witness`, Timeout: 30,
      Code: { ZipFile: zipDir(wdir) }, Environment: { Variables: { SKEY: wkey.skey, BUCKET: stateBucket, ORIGIN: origin, VKEY: logVkey } },
    }));
    await wIam.send(new CreateRoleCommand({ RoleName: 'invoker', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: feedRoleArn }, Action: 'sts:AssumeRole' }]) }));
    await wIam.send(new PutRolePolicyCommand({ RoleName: 'invoker', PolicyName: 'p', PolicyDocument: doc([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: wfn.FunctionArn }]) }));

    // The feed: appends the batch, signs, asks the witness (cross-account), stores the cosigned note.
    const fdir = mkdtempSync(path.join(os.tmpdir(), 'kit-feed-'));
    dirs.push(fdir);
    writeFileSync(path.join(fdir, 'index.mjs'), `import { S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';
import { decodeSubscription, entriesFromSubscription, encodeEntry, Ledger, S3Store, kmsSigner, addCheckpointRequest, addSignatures } from 'seclab/kit/ledger';
const e = process.env;
export async function handler(event) {
  const { entries } = entriesFromSubscription(decodeSubscription(event));
  const store = new S3Store({ client: new S3Client({ forcePathStyle: true }), bucket: e.BUCKET, prefix: 'log/' });
  const ledger = await Ledger.open(store, { origin: e.ORIGIN });
  const before = ledger.size;
  await ledger.append(entries.map(encodeEntry));
  const note = await ledger.checkpoint([await kmsSigner(new KMSClient({}), e.KEY, e.ORIGIN)]);
  const c = (await new STSClient({}).send(new AssumeRoleCommand({ RoleArn: e.INVOKER, RoleSessionName: 'feed' }))).Credentials;
  const lambda = new LambdaClient({ credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken } });
  const proof = before > 0 ? await ledger.consistencyProof(before) : [];
  const r = await lambda.send(new InvokeCommand({ FunctionName: 'witness', Payload: Buffer.from(JSON.stringify({ body: addCheckpointRequest(before, proof, note) })) }));
  const reply = JSON.parse(Buffer.from(r.Payload).toString());
  if (reply.statusCode !== 200) throw new Error('witness: ' + reply.statusCode + ' ' + reply.body);
  const cosigned = addSignatures(note, reply.body.split('\\n').filter((l) => l.startsWith('— ')));
  await store.put('checkpoint', Buffer.from(cosigned));
  return { size: ledger.size, cosigned };
}
`);
    await c.client(LambdaClient, { credentials: aCreds }).send(new CreateFunctionCommand({
      FunctionName: 'feed', Runtime: 'nodejs20.x', Handler: 'index.handler', Role: feedRoleArn, Timeout: 60, MemorySize: 512,
      Code: { ZipFile: zipDir(fdir) }, Environment: { Variables: { BUCKET: bucket, ORIGIN: origin, KEY: key.Arn!, INVOKER: invokerArn } },
    }));
    const lambda = c.client(LambdaClient, { credentials: aCreds });
    const invoke = async (ids: string[]) => {
      const r = await lambda.send(new InvokeCommand({ FunctionName: 'feed', Payload: Buffer.from(JSON.stringify(payload({
        messageType: 'DATA_MESSAGE', owner: a.accountId, logGroup: '/trail', logStream: 's', subscriptionFilters: ['f'],
        logEvents: ids.map((id, i) => ({ id: `e${i}`, timestamp: i, message: JSON.stringify(ctRecord(id)) })),
      }))) }));
      const text = Buffer.from(r.Payload!).toString();
      expect(r.FunctionError, text).toBeUndefined();
      return JSON.parse(text) as { size: number; cosigned: string };
    };
    expect((await invoke(['a', 'b', 'c'])).size).toBe(3);
    const second = await invoke(['d', 'e']);
    expect(second.size).toBe(5);
    // The note verifies with the KMS key's public key and carries the witness's cosignature.
    const opened = kit.openNote(second.cosigned, [kit.verifierFromVkey(logVkey), kit.verifierFromVkey(kit.cosignatureVkey(wkey.vkey))]);
    expect(opened.verified.map((v) => v.type).sort()).toEqual([0x02, 0x04]);
    const cp = kit.parseCheckpoint(opened.text);
    expect(cp).toMatchObject({ origin, size: 5 });
    // What the feed appended is what the entries say, in order.
    const store = new kit.S3Store({ client: s3, bucket, prefix: 'log/' });
    const bundle = kit.parseEntryBundle((await store.get(kit.entriesPath(0, 5)))!);
    expect(bundle.map((b) => kit.decodeEntry(b).source['eventID'])).toEqual(['a', 'b', 'c', 'd', 'e']);
  }, 240_000);
});
