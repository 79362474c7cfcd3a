// The lab cloud over HTTPS: a certificate from the install's own CA, aws:SecureTransport true exactly
// for TLS requests, so the standard deny-non-TLS bucket policy behaves as on AWS; the AWS CLI (botocore)
// trusts it through AWS_CA_BUNDLE.
import { spawn, spawnSync } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

describe('the lab cloud over HTTPS', () => {
  it('serves TLS 1.2+ with a certificate for localhost and 127.0.0.1 from the install\'s CA', async () => {
    const c = cloud();
    expect(c.gateway.tlsUrl).toMatch(/^https:\/\/localhost:\d+$/);
    const ca = readFileSync(c.caFile!, 'utf8');
    const port = Number(new URL(c.gateway.tlsUrl!).port);
    for (const host of ['localhost', '127.0.0.1']) {
      const res = await new Promise<{ status: number; protocol: string; authorized: boolean }>((resolve, reject) => {
        const r = https.get({ host, port, path: '/_seclab/health', ca, servername: host === 'localhost' ? host : undefined }, (m) => {
          m.resume();
          const sock = m.socket as import('node:tls').TLSSocket;
          resolve({ status: m.statusCode ?? 0, protocol: sock.getProtocol() ?? '', authorized: sock.authorized });
        });
        r.on('error', reject);
      });
      expect(res).toMatchObject({ status: 200, authorized: true });
      expect(['TLSv1.2', 'TLSv1.3']).toContain(res.protocol);
    }
    // Without the CA, the certificate is not trusted.
    await expect(new Promise((resolve, reject) => https.get({ host: 'localhost', port, path: '/_seclab/health' }, resolve).on('error', reject))).rejects.toThrow(/certificate/);
  });

  it('aws:SecureTransport is true exactly for TLS requests: a deny-non-TLS policy refuses HTTP and allows HTTPS', async () => {
    const c = cloud();
    const root = c.createAccount();
    const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    const plain = c.client(S3Client, { credentials });
    const ca = readFileSync(c.caFile!, 'utf8');
    const secure = new S3Client({
      endpoint: c.gateway.tlsUrl, region: c.region, forcePathStyle: true, credentials,
      requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }),
    });
    const bucket = `tls-only-${root.accountId}`;
    await plain.send(new CreateBucketCommand({ Bucket: bucket }));
    await plain.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'secret' }));
    await plain.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] }),
    }));
    const overHttp = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })).catch((e: Error) => e);
    expect((overHttp as Error).name).toBe('AccessDenied');
    const overHttps = await secure.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })).catch((e: Error) => {
      throw new Error(`over HTTPS: ${e.name}; CloudTrail: ${JSON.stringify(c.gateway.service('cloudtrail').trail.all(root.accountId).slice(-2))}`);
    });
    expect(await overHttps.Body!.transformToString()).toBe('secret');
    const events = c.gateway.service('cloudtrail').trail.all(root.accountId).filter((e) => e.eventName === 'GetObject');
    expect(events.map((e) => e.errorCode ?? 'ok')).toEqual(['AccessDenied', 'ok']);
  });

  it('the AWS CLI (botocore) works over HTTPS with AWS_CA_BUNDLE', async () => {
    const c = cloud();
    const which = spawnSync('aws', ['--version'], { encoding: 'utf8' });
    if (which.status !== 0) return; // no AWS CLI on this machine: the SDK test above covers TLS
    const root = c.createAccount();
    const env = {
      ...process.env, AWS_ENDPOINT_URL: c.gateway.tlsUrl!, AWS_CA_BUNDLE: c.caFile!, AWS_ACCESS_KEY_ID: root.accessKeyId,
      AWS_SECRET_ACCESS_KEY: root.secretAccessKey, AWS_DEFAULT_REGION: c.region, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    // Asynchronously: the lab cloud runs in this process and must keep answering.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn('aws', ['sts', 'get-caller-identity', '--output', 'json'], { env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).Account).toBe(root.accountId);
  });

  it('clients that build host names reach it through the gateway as HTTPS proxy (S3 virtual-hosted buckets)', async () => {
    const c = cloud();
    const which = spawnSync('aws', ['--version'], { encoding: 'utf8' });
    if (which.status !== 0) return;
    const root = c.createAccount();
    const bucket = `vhost-${root.accountId}`;
    const credentials = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    await c.client(S3Client, { credentials }).send(new CreateBucketCommand({ Bucket: bucket }));
    await c.client(S3Client, { credentials }).send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hi' }));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-awscfg-'));
    writeFileSync(path.join(dir, 'config'), '[default]\ns3 =\n    addressing_style = virtual\n');
    const run = (extra: Record<string, string>) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn('aws', ['s3api', 'list-objects-v2', '--bucket', bucket, '--output', 'json', '--cli-connect-timeout', '5'], {
        env: {
          ...process.env, AWS_ENDPOINT_URL: c.gateway.tlsUrl!, AWS_CA_BUNDLE: c.caFile!, AWS_ACCESS_KEY_ID: root.accessKeyId,
          AWS_SECRET_ACCESS_KEY: root.secretAccessKey, AWS_DEFAULT_REGION: c.region, AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: '/dev/null', ...extra,
        },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    const viaProxy = await run({ HTTPS_PROXY: c.url });
    expect(viaProxy.status, viaProxy.stderr).toBe(0);
    expect(JSON.parse(viaProxy.stdout).Contents.map((o: { Key: string }) => o.Key)).toEqual(['hello.txt']);
    // The proxy tunnels to the lab cloud only.
    const refused = await new Promise<string>((resolve) => {
      const sock = net.connect(Number(new URL(c.url).port), '127.0.0.1', () => sock.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('close', () => resolve(got));
      sock.on('error', () => resolve(got));
    });
    expect(refused).toMatch(/^HTTP\/1\.1 403/);
  });
});
