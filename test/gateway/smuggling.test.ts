// Gateway authorization is about the request the target executes: requests a hostile student crafts
// so that the gateway authorizes (and CloudTrail records) one call while moto executes another. Each
// is sent raw, validly signed, through the real gateway to the real moto_server; each must be refused
// (or executed as exactly what was authorized), and CloudTrail must name what was executed.
import net from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { IAMClient, CreateRoleCommand, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand, GetUserCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand, HeadObjectCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { zipSync, strToU8 } from 'fflate';
import { LambdaClient, CreateFunctionCommand, GetFunctionCommand } from '@aws-sdk/client-lambda';
import { SQSClient, CreateQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { KMSClient, CreateKeyCommand, DescribeKeyCommand } from '@aws-sdk/client-kms';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const REGION = 'us-east-1';
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
type Creds = { accessKeyId: string; secretAccessKey: string };

// ---- a SigV4 signer written from the specification, independent of the gateway's verifier ----

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const hmac = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
const amzDate = (t: Date) => t.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function canonicalQuery(rawQuery: string, skip?: string): string {
  return [...new URLSearchParams(rawQuery)].filter(([k]) => k !== skip).map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

function signature(creds: Creds, service: string, when: Date, canonical: string): string {
  const day = amzDate(when).slice(0, 8);
  const scope = `${day}/${REGION}/${service}/aws4_request`;
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), REGION), service), 'aws4_request');
  return hmac(key, `AWS4-HMAC-SHA256\n${amzDate(when)}\n${scope}\n${sha256(canonical)}`).toString('hex');
}

interface Raw {
  method: string;
  path: string;
  /** The query string exactly as it is sent (repetitions and all). */
  query?: string;
  /** Extra headers, sent as given (a name may repeat); signed unless listed in `unsigned`. */
  headers?: Array<[string, string]>;
  body?: Buffer | string;
}

/** Signs a request with an Authorization header (all given headers signed, payload hashed). */
function signHeader(creds: Creds, service: string, r: Raw, host: string): Array<[string, string]> {
  const when = new Date();
  const body = Buffer.from(r.body ?? '');
  const headers: Array<[string, string]> = [['host', host], ['x-amz-date', amzDate(when)], ['x-amz-content-sha256', sha256(body)], ...(r.headers ?? [])];
  const names = [...new Set(headers.map(([k]) => k.toLowerCase()))].sort();
  const values = (n: string) => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v.trim()).join(',');
  const path = service === 's3' ? r.path : r.path.split('/').map(enc).join('/');
  const canonical = [r.method, path, canonicalQuery(r.query ?? ''), names.map((n) => `${n}:${values(n)}\n`).join(''), names.join(';'), sha256(body)].join('\n');
  const day = amzDate(when).slice(0, 8);
  return [...headers, ['authorization', `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${day}/${REGION}/${service}/aws4_request, SignedHeaders=${names.join(';')}, Signature=${signature(creds, service, when, canonical)}`]];
}

/** A presigned (query-string) SigV4 URL query, signed at `when` for `expires` seconds. */
function presignQuery(creds: Creds, service: string, method: string, path: string, host: string, when: Date, expires: number, extra = ''): string {
  const day = amzDate(when).slice(0, 8);
  const q = `${extra ? `${extra}&` : ''}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${enc(`${creds.accessKeyId}/${day}/${REGION}/${service}/aws4_request`)}` +
    `&X-Amz-Date=${amzDate(when)}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host`;
  const canonical = [method, path, canonicalQuery(q), `host:${host}\n`, 'host', service === 's3' ? 'UNSIGNED-PAYLOAD' : sha256('')].join('\n');
  return `${q}&X-Amz-Signature=${signature(creds, service, when, canonical)}`;
}

/** Sends exactly these bytes (no client library normalizing anything) and reads the answer. */
function send(r: Raw, headers: Array<[string, string]>): Promise<{ status: number; body: string }> {
  const url = new URL(cloud().url);
  const body = Buffer.from(r.body ?? '');
  const head = `${r.method} ${r.path}${r.query !== undefined ? `?${r.query}` : ''} HTTP/1.1\r\n` +
    [...headers.filter(([k]) => k.toLowerCase() !== 'host'), ['host', headers.find(([k]) => k === 'host')?.[1] ?? url.host], ['content-length', String(body.length)], ['connection', 'close']]
      .map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Not half-closed: the answer comes before the server closes the connection (connection: close).
    const s = net.connect(Number(url.port), url.hostname, () => s.write(Buffer.concat([Buffer.from(head, 'latin1'), body])));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const signedSend = (creds: Creds, service: string, r: Raw) => send(r, signHeader(creds, service, r, new URL(cloud().url).host));

// ---- a class account: root, a student with narrow permissions, and what the student must not touch ----

async function setup(statements: object[]) {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: rootCreds });
  await iam.send(new CreateUserCommand({ UserName: 'mallory' }));
  if (statements.length) await iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'p', PolicyDocument: doc(statements) }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'mallory' }))).AccessKey!;
  const mallory = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  const trail = () => c.gateway.service('cloudtrail').trail.all(root.accountId).filter((e) => e.userIdentity.accessKeyId === mallory.accessKeyId);
  const users = async () => ((await iam.send(new ListUsersCommand({}))).Users ?? []).map((u) => u.UserName);
  return { c, root, rootCreds, iam, mallory, trail, users };
}

const READ_ONLY_IAM = [{ Effect: 'Allow', Action: ['iam:GetUser', 'iam:ListUsers'], Resource: '*' }];
const IAM_FORM = 'application/x-www-form-urlencoded; charset=utf-8';

describe('gateway: a query-protocol call is authorized as the target reads it', () => {
  it('refuses a decoy form body without a content type while the real action sits in the URL query', async () => {
    const s = await setup(READ_ONLY_IAM);
    const res = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', query: 'Action=CreateUser&UserName=evil1&Version=2010-05-08', body: 'Action=GetUser&Version=2010-05-08',
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('MalformedQueryString');
    expect(await s.users()).not.toContain('evil1');
    expect(s.trail().map((e) => e.eventName)).not.toContain('GetUser');
  });

  it('refuses a decoy body whose content type only mentions the form type (text/plain; ...x-www-form-urlencoded)', async () => {
    const s = await setup(READ_ONLY_IAM);
    const res = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', query: 'Action=CreateUser&UserName=evil2&Version=2010-05-08', body: 'Action=GetUser&Version=2010-05-08',
      headers: [['content-type', 'Application/X-WWW-Form-Urlencoded-Decoy']],
    });
    expect(res.status).toBe(400);
    expect(await s.users()).not.toContain('evil2');
  });

  it('refuses a parameter given both in the URL query and in a form body with an upper-case content type', async () => {
    const s = await setup([{ Effect: 'Allow', Action: 'iam:DeleteUser', Resource: 'arn:aws:iam::*:user/mallory-*' }, ...READ_ONLY_IAM]);
    await s.iam.send(new CreateUserCommand({ UserName: 'victim' }));
    await s.iam.send(new CreateUserCommand({ UserName: 'mallory-old' }));
    const res = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', query: 'UserName=victim', body: 'Action=DeleteUser&Version=2010-05-08&UserName=mallory-old',
      headers: [['content-type', 'Application/X-WWW-Form-Urlencoded']],
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('MalformedQueryString');
    expect(await s.users()).toEqual(expect.arrayContaining(['victim', 'mallory-old']));
    expect(s.trail().map((e) => e.eventName)).not.toContain('DeleteUser');
  });

  it('refuses a repeated Action in a form body with an upper-case content type', async () => {
    const s = await setup(READ_ONLY_IAM);
    const res = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', body: 'Action=CreateUser&UserName=evil3&Action=GetUser&Version=2010-05-08',
      headers: [['content-type', 'APPLICATION/X-WWW-FORM-URLENCODED']],
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('appears more than once');
    expect(await s.users()).not.toContain('evil3');
  });

  it('reads a gzip body as the target does (decompressed), and refuses it beside URL parameters', async () => {
    const s = await setup(READ_ONLY_IAM);
    const smuggled = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', query: 'Action=GetUser&Version=2010-05-08', body: gzipSync('Action=CreateUser&UserName=evil4&Version=2010-05-08'),
      headers: [['content-type', IAM_FORM], ['content-encoding', 'gzip']],
    });
    expect(smuggled.status).toBe(400);
    expect(await s.users()).not.toContain('evil4');
    // Alone, a gzip form is authorized as what it says: CreateUser, which mallory may not do.
    const denied = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', body: gzipSync('Action=CreateUser&UserName=evil4&Version=2010-05-08'),
      headers: [['content-type', IAM_FORM], ['content-encoding', 'gzip']],
    });
    expect(denied.status).toBe(403);
    expect(await s.users()).not.toContain('evil4');
    expect(s.trail().at(-1)).toMatchObject({ eventName: 'CreateUser', errorCode: 'AccessDenied' });
  });

  it('executes and records what a well-formed form says, whatever the case of its content type', async () => {
    const s = await setup([{ Effect: 'Allow', Action: 'iam:CreateUser', Resource: '*' }, ...READ_ONLY_IAM]);
    const res = await signedSend(s.mallory, 'iam', {
      method: 'POST', path: '/', body: 'Action=CreateUser&UserName=fine1&Version=2010-05-08',
      headers: [['content-type', 'Application/X-WWW-Form-Urlencoded; Charset=UTF-8']],
    });
    expect(res.status).toBe(200);
    expect(await s.users()).toContain('fine1');
    expect(s.trail().at(-1)).toMatchObject({ eventName: 'CreateUser', requestParameters: { userName: 'fine1' } });
    expect(s.trail().at(-1)!.errorCode).toBeUndefined();
  });
});

describe('gateway: a JSON call is authorized as the target reads it', () => {
  async function kmsSetup() {
    const s = await setup([{ Effect: 'Allow', Action: ['kms:DescribeKey', 'kms:ListKeys'], Resource: '*' }]);
    const kms = s.c.client(KMSClient, { credentials: s.rootCreds });
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const state = async () => (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState;
    return { ...s, keyId, state };
  }
  const json = (target: string): Array<[string, string]> => [['content-type', 'application/x-amz-json-1.1'], ['x-amz-target', target]];

  it('refuses an Action in the URL query of a JSON request', async () => {
    const s = await kmsSetup();
    const res = await signedSend(s.mallory, 'kms', {
      method: 'POST', path: '/', query: 'Action=ScheduleKeyDeletion', body: JSON.stringify({ KeyId: s.keyId, PendingWindowInDays: 7 }),
      headers: json('TrentService.DescribeKey'),
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('SerializationException');
    expect(await s.state()).toBe('Enabled');
  });

  it('executes a JSON string holding "&Action=..." as the operation X-Amz-Target names, and records that', async () => {
    const s = await kmsSetup();
    const res = await signedSend(s.mallory, 'kms', {
      method: 'POST', path: '/', body: JSON.stringify({ KeyId: s.keyId, GrantTokens: ['&Action=ScheduleKeyDeletion&PendingWindowInDays=7&'] }),
      headers: json('TrentService.DescribeKey'),
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ KeyMetadata: { KeyId: s.keyId } });
    expect(await s.state()).toBe('Enabled');
    expect(s.trail().at(-1)).toMatchObject({ eventName: 'DescribeKey', eventSource: 'kms.amazonaws.com' });
  });

  it('refuses an operation spelled otherwise than the API names it (the target runs schedule_key_deletion for it)', async () => {
    const s = await kmsSetup();
    await s.iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'p', PolicyDocument: doc([
      { Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: '*' },
    ]) }));
    for (const op of ['schedule_key_deletion', 'scheduleKeyDeletion']) {
      const res = await signedSend(s.mallory, 'kms', {
        method: 'POST', path: '/', body: JSON.stringify({ KeyId: s.keyId, PendingWindowInDays: 7 }), headers: json(`TrentService.${op}`),
      });
      expect(await s.state(), op).toBe('Enabled');
      expect(res.status).toBe(400);
      expect(res.body).toContain('UnknownOperationException');
    }
  });

  it('refuses a key ARN naming another account or region (the target acts on the caller\'s own key of that id)', async () => {
    const s = await kmsSetup();
    const own = `arn:aws:kms:${REGION}:${s.root.accountId}:key/${s.keyId}`;
    await s.iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'p', PolicyDocument: doc([
      { Effect: 'Allow', Action: 'kms:*', Resource: '*' }, { Effect: 'Deny', Action: 'kms:ScheduleKeyDeletion', Resource: own },
    ]) }));
    for (const keyId of [`arn:aws:kms:${REGION}:999999999999:key/${s.keyId}`, `arn:aws:kms:eu-west-1:${s.root.accountId}:key/${s.keyId}`]) {
      const res = await signedSend(s.mallory, 'kms', {
        method: 'POST', path: '/', body: JSON.stringify({ KeyId: keyId, PendingWindowInDays: 7 }), headers: json('TrentService.ScheduleKeyDeletion'),
      });
      expect(await s.state(), keyId).toBe('Enabled');
      expect(res.status).toBe(400);
    }
    const honest = await signedSend(s.mallory, 'kms', {
      method: 'POST', path: '/', body: JSON.stringify({ KeyId: own, PendingWindowInDays: 7 }), headers: json('TrentService.ScheduleKeyDeletion'),
    });
    expect(honest.body).toContain('AccessDenied');
    expect(await s.state()).toBe('Enabled');
  });

  it('refuses a form content type on a JSON request (the target would read the form first)', async () => {
    const s = await kmsSetup();
    const res = await signedSend(s.mallory, 'kms', {
      method: 'POST', path: '/', body: JSON.stringify({ KeyId: s.keyId, x: '&Action=ScheduleKeyDeletion&' }),
      headers: [['content-type', 'application/x-www-form-urlencoded'], ['x-amz-target', 'TrentService.DescribeKey']],
    });
    expect(res.status).toBe(400);
    expect(await s.state()).toBe('Enabled');
  });
});

describe('gateway: a Lambda call names the function the target acts on', () => {
  it('refuses a function ARN of another account, and a member given both in the path and the body', async () => {
    const s = await setup([]);
    const own = `arn:aws:lambda:${REGION}:${s.root.accountId}:function:victim`;
    await s.iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'p', PolicyDocument: doc([
      { Effect: 'Allow', Action: 'lambda:*', Resource: '*' }, { Effect: 'Deny', Action: ['lambda:DeleteFunction', 'lambda:UpdateFunctionConfiguration'], Resource: own },
    ]) }));
    await s.iam.send(new CreateRoleCommand({ RoleName: 'fn', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]) }));
    const lambda = s.c.client(LambdaClient, { credentials: s.rootCreds });
    for (const name of ['victim', 'mine']) {
      await lambda.send(new CreateFunctionCommand({
        FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: `arn:aws:iam::${s.root.accountId}:role/fn`,
        Code: { ZipFile: zipSync({ 'index.mjs': strToU8('export const handler = async () => 1;') }) },
      }));
    }
    const alive = async () => lambda.send(new GetFunctionCommand({ FunctionName: 'victim' })).then(() => true, () => false);
    const timeout = async () => (await lambda.send(new GetFunctionCommand({ FunctionName: 'victim' }))).Configuration?.Timeout;
    const before = await timeout();
    const foreign = await signedSend(s.mallory, 'lambda', { method: 'DELETE', path: `/2015-03-31/functions/${encodeURIComponent(`arn:aws:lambda:${REGION}:999999999999:function:victim`)}` });
    expect(await alive()).toBe(true);
    expect(foreign.status).toBe(400);
    const both = await signedSend(s.mallory, 'lambda', {
      method: 'PUT', path: '/2015-03-31/functions/mine/configuration', body: JSON.stringify({ FunctionName: 'victim', Timeout: 42 }),
      headers: [['content-type', 'application/json']],
    });
    expect(await timeout()).toBe(before);
    expect(both.status).toBe(400);
  });
});

describe('gateway: an SQS call names the queue the target acts on', () => {
  it('refuses a queue URL of another account, a path naming the queue, and a URL with more path', async () => {
    const s = await setup([]);
    await s.iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'p', PolicyDocument: doc([
      { Effect: 'Allow', Action: 'sqs:*', Resource: '*' },
      { Effect: 'Deny', Action: 'sqs:DeleteQueue', Resource: `arn:aws:sqs:${REGION}:${s.root.accountId}:victim` },
    ]) }));
    const sqs = s.c.client(SQSClient, { credentials: s.rootCreds });
    await sqs.send(new CreateQueueCommand({ QueueName: 'victim' }));
    const alive = async () => (await sqs.send(new ListQueuesCommand({}))).QueueUrls?.some((u) => u.endsWith('/victim')) ?? false;
    const json: Array<[string, string]> = [['content-type', 'application/x-amz-json-1.0'], ['x-amz-target', 'AmazonSQS.DeleteQueue']];
    const attempts: Raw[] = [
      { method: 'POST', path: '/', headers: json, body: JSON.stringify({ QueueUrl: 'http://localhost/999999999999/victim' }) },
      { method: 'POST', path: `/${s.root.accountId}/victim`, headers: json, body: '{}' },
      { method: 'POST', path: '/', headers: json, body: JSON.stringify({ QueueUrl: `http://localhost/${s.root.accountId}/mine/../victim` }) },
    ];
    for (const a of attempts) {
      const res = await signedSend(s.mallory, 'sqs', a);
      expect(await alive(), `${a.path} ${String(a.body)}`).toBe(true);
      expect(res.status).toBe(400);
    }
    // The honest call is authorized against the queue it deletes: denied.
    const honest = await signedSend(s.mallory, 'sqs', { method: 'POST', path: '/', headers: json, body: JSON.stringify({ QueueUrl: `http://localhost/${s.root.accountId}/victim` }) });
    expect(honest.status).toBe(403);
    expect(honest.body).toContain('AccessDenied');
    expect(await alive()).toBe(true);
  });
});

describe('gateway: S3 requests are authorized as the target reads them', () => {
  async function s3Setup(extra: object[] = []) {
    const s = await setup([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: ['s3:DeleteObject', 's3:GetObject'], Resource: 'arn:aws:s3:::*/secret/*' },
      ...extra,
    ]);
    const bucket = `smuggle-${s.root.accountId}`;
    const s3 = s.c.client(S3Client, { credentials: s.rootCreds });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/x', Body: 'crown jewels' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/y', Body: 'hello' }));
    const exists = async (key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
    const deleteObjects = (xml: string) => {
      const body = Buffer.from(xml);
      return signedSend(s.mallory, 's3', {
        method: 'POST', path: `/${bucket}`, query: 'delete=', body,
        headers: [['content-md5', createHash('md5').update(body).digest('base64')], ['content-type', 'application/xml']],
      });
    };
    return { ...s, s3, bucket, exists, deleteObjects };
  }

  it('authorizes every key of a DeleteObjects body larger than 1 MiB', async () => {
    const s = await s3Setup();
    const padding = ' '.repeat(1.2 * 1024 * 1024);
    const res = await s.deleteObjects(`<Delete>${padding}<Object><Key>public/y</Key></Object><Object><Key>secret/x</Key></Object></Delete>`);
    expect(res.status).toBe(403);
    expect(await s.exists('secret/x')).toBe(true);
    expect(await s.exists('public/y')).toBe(true);
    const last = s.trail().at(-1)!;
    expect(last).toMatchObject({ eventName: 'DeleteObjects', errorCode: 'AccessDenied' });
    expect(JSON.stringify(last.resources)).toContain(`${s.bucket}/secret/x`);
  });

  it('reads character references in keys as the target does', async () => {
    const s = await s3Setup();
    const res = await s.deleteObjects('<Delete><Object><Key>&#x73;ecret/x</Key></Object></Delete>');
    expect(res.status).toBe(403);
    expect(await s.exists('secret/x')).toBe(true);
  });

  it('refuses more than 1000 keys, XML that does not parse, and a DOCTYPE', async () => {
    const s = await s3Setup();
    const many = Array.from({ length: 1001 }, (_, i) => `<Object><Key>public/${i}</Key></Object>`).join('');
    for (const xml of [`<Delete>${many}</Delete>`, '<Delete><Object><Key>secret/x</Key></Object>', '<!DOCTYPE d [<!ENTITY e "secret">]><Delete><Object><Key>&e;/x</Key></Object></Delete>']) {
      const res = await s.deleteObjects(xml);
      expect(res.status, xml.slice(0, 60)).toBe(400);
      expect(res.body).toContain('MalformedXML');
    }
    expect(await s.exists('secret/x')).toBe(true);
  });

  it('refuses a form body on a GET (the target would read versionId from it instead of the URL)', async () => {
    const s = await s3Setup([{ Effect: 'Deny', Action: 's3:GetObjectVersion', Resource: '*' }]);
    await s.s3.send(new PutBucketVersioningCommand({ Bucket: s.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const old = (await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'public/y', Body: 'old draft' }))).VersionId!;
    await s.s3.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'public/y', Body: 'current' }));
    // mallory may read the current object (s3:GetObject) but no earlier version (s3:GetObjectVersion).
    const res = await signedSend(s.mallory, 's3', {
      method: 'GET', path: `/${s.bucket}/public/y`, body: `versionId=${old}`, headers: [['content-type', 'application/x-www-form-urlencoded']],
    });
    expect(res.body).not.toContain('old draft');
    expect(res.status).toBe(400);
  });

  it('refuses an S3 request that carries X-Amz-Target and a JSON body naming another bucket', async () => {
    const s = await s3Setup();
    const other = `other-${s.root.accountId}`;
    await s.s3.send(new CreateBucketCommand({ Bucket: other }));
    // Only the bucket `other` may be written by mallory (an explicit deny on the first bucket).
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${s.bucket}/*` }]) }));
    const res = await signedSend(s.mallory, 's3', {
      method: 'DELETE', path: `/${s.bucket}/public/y`, body: JSON.stringify({ Bucket: other, Key: 'public/y' }),
      headers: [['x-amz-target', 'AmazonS3.DeleteObject'], ['content-type', 'application/x-amz-json-1.1']],
    });
    expect(res.status).toBe(400);
    expect(await s.exists('public/y')).toBe(true);
  });

  it('refuses a path with an empty bucket segment (//bucket/key), where the target still finds the bucket', async () => {
    const s = await s3Setup();
    const res = await signedSend(s.mallory, 's3', { method: 'GET', path: `//${s.bucket}/secret/x` });
    expect(res.body).not.toContain('crown jewels');
    expect(res.status).toBe(400);
  });

  it('finds the key of a browser-based upload however far into the form it is', async () => {
    const s = await s3Setup([{ Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::*/secret/*' }]);
    const b = 'xxBOUNDARYxx';
    const field = (name: string, value: string, extra = '') => `--${b}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n${value}\r\n`;
    const body = field('pad', 'p'.repeat(100_000)) + field('key', 'secret/x') + field('file', 'overwritten', '; filename="f.txt"') + `--${b}--\r\n`;
    const res = await signedSend(s.mallory, 's3', { method: 'POST', path: `/${s.bucket}`, body, headers: [['content-type', `multipart/form-data; boundary=${b}`]] });
    expect(res.status).toBe(403);
    const now = await s.s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'secret/x' }));
    expect(await now.Body!.transformToString()).toBe('crown jewels');
  });

  it('refuses a raw # or ; in the path (the target cuts the key there)', async () => {
    const s = await s3Setup();
    await s.iam.send(new PutUserPolicyCommand({ UserName: 'mallory', PolicyName: 'p', PolicyDocument: doc([
      { Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Deny', Action: 's3:GetObject', Resource: `arn:aws:s3:::${s.bucket}/secret/x` },
    ]) }));
    for (const path of [`/${s.bucket}/secret/x#f`, `/${s.bucket}/secret/x;a`]) {
      const res = await signedSend(s.mallory, 's3', { method: 'GET', path });
      expect(res.body, path).not.toContain('crown jewels');
      expect(res.status).toBe(400);
    }
  });

  it('authorizes the copy source the target reads (no ///bucket/key, #fragment or ;params)', async () => {
    const s = await s3Setup();
    const dst = `dst-${s.root.accountId}`;
    await s.s3.send(new CreateBucketCommand({ Bucket: dst }));
    // An exact deny on the object, so that only the source parsing decides.
    await s.s3.send(new PutBucketPolicyCommand({ Bucket: s.bucket, Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${s.bucket}/secret/x` }]) }));
    for (const [i, src] of [`///${s.bucket}/secret/x`, `${s.bucket}/secret/x#.txt`, `${s.bucket}/secret/x;x`].entries()) {
      const res = await signedSend(s.mallory, 's3', { method: 'PUT', path: `/${dst}/copy${i}`, headers: [['x-amz-copy-source', src]] });
      const copied = await s.s3.send(new GetObjectCommand({ Bucket: dst, Key: `copy${i}` })).then((o) => o.Body!.transformToString(), () => undefined);
      expect(copied, src).toBeUndefined();
      expect(res.status).toBe(400);
    }
  });

  it('never forwards the emulator\'s own API, whatever the signature says', async () => {
    const s = await s3Setup();
    const res = await signedSend(s.mallory, 's3', { method: 'GET', path: '/moto-api/data.json' });
    expect(res.status).toBe(400);
    expect(res.body).not.toContain(s.root.accountId);
  });

  it('refuses a presigned URL for another service that the target would route to S3', async () => {
    const s = await s3Setup([{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }, { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }]);
    const host = new URL(s.c.url).host;
    const path = `/${s.bucket}/public/y`;
    const query = presignQuery(s.mallory, 'iam', 'DELETE', path, host, new Date(), 300, 'Action=GetUser&Version=2010-05-08');
    const res = await send({ method: 'DELETE', path, query }, []);
    expect(res.status).toBe(400);
    expect(await s.exists('public/y')).toBe(true);
  });
});

describe('gateway: presigned URLs within AWS\'s limits on date and expiry', () => {
  async function presigned() {
    const s = await setup([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]);
    const bucket = `presign-${s.root.accountId}`;
    const s3 = s.c.client(S3Client, { credentials: s.rootCreds });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
    const host = new URL(s.c.url).host;
    const get = (when: Date, expires: number) => send({ method: 'GET', path: `/${bucket}/k`, query: presignQuery(s.mallory, 's3', 'GET', `/${bucket}/k`, host, when, expires) }, []);
    return { ...s, bucket, get };
  }

  it('accepts a URL signed now, refuses one dated in the future or valid for more than 7 days', async () => {
    const s = await presigned();
    expect((await s.get(new Date(), 300)).status).toBe(200);
    // Signed "tomorrow" for a week: usable for eight days if the date were not checked.
    const future = await s.get(new Date(Date.now() + 86_400_000), 604_800);
    expect(future.status).toBe(403);
    expect(future.body).toContain('Request is not valid yet');
    const long = await s.get(new Date(), 604_801);
    expect(long.status).toBe(400);
    expect(long.body).toContain('AuthorizationQueryParametersError');
  });

  it('refuses a SigV2 URL that expires more than 7 days from now', async () => {
    const s = await presigned();
    const v2 = (expires: number) => {
      const toSign = `GET\n\n\n${expires}\n/${s.bucket}/k`;
      const sig = createHmac('sha1', s.mallory.secretAccessKey).update(toSign).digest('base64');
      return send({ method: 'GET', path: `/${s.bucket}/k`, query: `AWSAccessKeyId=${s.mallory.accessKeyId}&Expires=${expires}&Signature=${enc(sig)}` }, []);
    };
    const now = Math.floor(Date.now() / 1000);
    expect((await v2(now + 3600)).status).toBe(200);
    expect((await v2(now + 10 * 86_400)).status).toBe(400);
  });
});

describe('gateway: a legitimate SDK keeps working', () => {
  it('IAM and KMS through the SDK (form and JSON bodies) still answer', async () => {
    const s = await setup(READ_ONLY_IAM);
    const me = await s.c.client(IAMClient, { credentials: s.mallory }).send(new GetUserCommand({}));
    expect(me.User?.UserName).toBe('mallory');
    expect(s.trail().at(-1)).toMatchObject({ eventName: 'GetUser' });
  });
});
