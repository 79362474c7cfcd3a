// ACM private certificates issued by the account's company CA (AWS Private CA-style), through the
// real gateway and moto with the AWS SDK v3: request, describe, get, export with a passphrase (the key
// decrypts with node:crypto and matches the certificate, which chains to the CA and covers the host
// name), the passphrase's limits, public certificates that stay PENDING_VALIDATION and cannot be
// exported, IAM authorization of ACM's actions, a CA that another account cannot use, ACM PCA's read
// operations, and CloudTrail's records (passphrase hidden).
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { json11Call, type Creds } from '../helpers/json11.ts';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import {
  ACMClient, RequestCertificateCommand, DescribeCertificateCommand, GetCertificateCommand, ExportCertificateCommand, ListCertificatesCommand,
  DeleteCertificateCommand, AddTagsToCertificateCommand, ListTagsForCertificateCommand,
} from '@aws-sdk/client-acm';
import { useLabCloud } from '../helpers/cloud.ts';
import { keyMatchesCertificate } from '../../src/cloud/services/acm/index.ts';

const { cloud } = useLabCloud();
const HOST = 'www.fabrikam-travel.example';
const doc = (Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

function account() {
  const c = cloud();
  const root = c.createAccount();
  const rootCreds: Creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = c.client(IAMClient, { credentials: rootCreds });
  const newUser = async (name: string, statements: object[]): Promise<Creds> => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (statements.length) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: doc(statements) }));
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  };
  const acm = (credentials: Creds = rootCreds) => c.client(ACMClient, { credentials });
  const ca = c.gateway.service('acm').privateCa(root.accountId);
  return { c, id: root.accountId, rootCreds, newUser, acm, ca };
}

async function errorOf(p: Promise<unknown>): Promise<{ name?: string; message?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as { name?: string; message?: string };
  }
  throw new Error('expected the call to fail');
}

/** ACM PCA through the gateway (JSON 1.1, X-Amz-Target ACMPrivateCA.*), signed with SigV4. */
async function pca(creds: Creds, operation: string, input: object): Promise<{ status: number; body: Record<string, unknown> }> {
  return json11Call(cloud().url, cloud().region, creds, 'acm-pca', 'ACMPrivateCA', operation, input);
}

describe('ACM private certificates from the company CA', () => {
  it('are issued at once, described as AWS does, exported with an encrypted key that matches and chains to the CA', async () => {
    const a = account();
    expect(a.ca.arn).toMatch(new RegExp(`^arn:aws:acm-pca:us-east-1:${a.id}:certificate-authority/[0-9a-f-]{36}$`));
    expect(a.c.gateway.service('acm').privateCa(a.id).arn).toBe(a.ca.arn); // idempotent

    const { CertificateArn } = await a.acm().send(new RequestCertificateCommand({
      DomainName: HOST, CertificateAuthorityArn: a.ca.arn, SubjectAlternativeNames: ['fabrikam-travel.example'],
    }));
    expect(CertificateArn).toMatch(new RegExp(`^arn:aws:acm:us-east-1:${a.id}:certificate/[0-9a-f-]{36}$`));

    const { Certificate: d } = await a.acm().send(new DescribeCertificateCommand({ CertificateArn }));
    expect(d).toMatchObject({
      CertificateArn, DomainName: HOST, SubjectAlternativeNames: [HOST, 'fabrikam-travel.example'], Status: 'ISSUED', Type: 'PRIVATE',
      KeyAlgorithm: 'RSA_2048', CertificateAuthorityArn: a.ca.arn, RenewalEligibility: 'ELIGIBLE', InUseBy: [], Subject: `CN=${HOST}`,
    });
    expect(d!.Serial).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
    expect(d!.NotBefore).toBeInstanceOf(Date);
    expect(d!.NotAfter!.getTime() - d!.NotBefore!.getTime()).toBeGreaterThan(364 * 86400_000);

    const got = await a.acm().send(new GetCertificateCommand({ CertificateArn }));
    expect(got.Certificate).toContain('-----BEGIN CERTIFICATE-----');
    expect(got.CertificateChain).toBe(a.ca.certPem);

    const passphrase = 'correct horse battery staple';
    const out = await a.acm().send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from(passphrase) }));
    expect(out.PrivateKey).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(() => createPrivateKey(out.PrivateKey!)).toThrow(); // it is encrypted
    const key = createPrivateKey({ key: out.PrivateKey!, passphrase });
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(() => createPrivateKey({ key: out.PrivateKey!, passphrase: 'wrong passphrase' })).toThrow();
    expect(keyMatchesCertificate(out.Certificate!, out.PrivateKey!, passphrase)).toBe(true);

    const leaf = new X509Certificate(out.Certificate!);
    const caCert = new X509Certificate(out.CertificateChain!);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.checkHost(HOST)).toBe(HOST);
    expect(leaf.checkHost('fabrikam-travel.example')).toBe('fabrikam-travel.example');
    expect(leaf.checkHost('evil.example')).toBeUndefined();
    expect(caCert.ca).toBe(true);
    expect(createHash('sha256').update(caCert.raw).digest('hex')).toBe(createHash('sha256').update(new X509Certificate(a.ca.certPem).raw).digest('hex'));

    // Graders see it, with its key.
    const mine = a.c.gateway.service('acm').certificates(a.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ arn: CertificateArn, status: 'ISSUED', type: 'PRIVATE', domainName: HOST });
    expect(keyMatchesCertificate(mine[0]!.certPem!, mine[0]!.keyPem!)).toBe(true);
    expect(mine[0]!.exports).toHaveLength(1);

    // List, tags, delete.
    const list = await a.acm().send(new ListCertificatesCommand({}));
    expect(list.CertificateSummaryList?.map((s) => [s.CertificateArn, s.Status, s.Type])).toEqual([[CertificateArn, 'ISSUED', 'PRIVATE']]);
    await a.acm().send(new AddTagsToCertificateCommand({ CertificateArn, Tags: [{ Key: 'site', Value: 'www' }] }));
    expect((await a.acm().send(new ListTagsForCertificateCommand({ CertificateArn }))).Tags).toEqual([{ Key: 'site', Value: 'www' }]);
    await a.acm().send(new DeleteCertificateCommand({ CertificateArn }));
    expect((await errorOf(a.acm().send(new DescribeCertificateCommand({ CertificateArn })))).name).toBe('ResourceNotFoundException');
  });

  it('refuses a passphrase shorter than 4 or longer than 128 bytes, and one with #, $ or %', async () => {
    const a = account();
    const { CertificateArn } = await a.acm().send(new RequestCertificateCommand({ DomainName: HOST, CertificateAuthorityArn: a.ca.arn }));
    for (const p of ['abc', 'x'.repeat(129)]) {
      const e = await errorOf(a.acm().send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from(p) })));
      expect(e.name).toBe('ValidationException');
      expect(e.message).toContain("at 'passphrase' failed to satisfy constraint");
    }
    expect((await errorOf(a.acm().send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from('pa$$word') })))).name).toBe('ValidationException');
    const ok = await a.acm().send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from('x'.repeat(128)) }));
    expect(createPrivateKey({ key: ok.PrivateKey!, passphrase: 'x'.repeat(128) }).type).toBe('private');
  });

  it('a public certificate (no CertificateAuthorityArn) stays PENDING_VALIDATION and cannot be exported or fetched', async () => {
    const a = account();
    const { CertificateArn } = await a.acm().send(new RequestCertificateCommand({ DomainName: HOST, ValidationMethod: 'DNS' }));
    const { Certificate: d } = await a.acm().send(new DescribeCertificateCommand({ CertificateArn }));
    expect(d).toMatchObject({ Status: 'PENDING_VALIDATION', Type: 'AMAZON_ISSUED' });
    expect(d!.DomainValidationOptions?.[0]).toMatchObject({ DomainName: HOST, ValidationMethod: 'DNS', ValidationStatus: 'PENDING_VALIDATION' });
    const e = await errorOf(a.acm().send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from('passphrase') })));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toContain('is not a private certificate');
    expect(e.message).toContain('CertificateAuthorityArn');
    expect((await errorOf(a.acm().send(new GetCertificateCommand({ CertificateArn })))).name).toBe('RequestInProgressException');
  });

  it('authorizes acm:* actions with IAM: a user without acm:ExportCertificate is denied; acm:CertificateAuthority conditions apply', async () => {
    const a = account();
    const user = await a.newUser('web-admin', [
      { Effect: 'Allow', Action: ['acm:RequestCertificate', 'acm:DescribeCertificate', 'acm:GetCertificate'], Resource: '*', Condition: {} },
      { Effect: 'Deny', Action: 'acm:RequestCertificate', Resource: '*', Condition: { Null: { 'acm:CertificateAuthority': 'true' } } },
    ]);
    const { CertificateArn } = await a.acm(user).send(new RequestCertificateCommand({ DomainName: HOST, CertificateAuthorityArn: a.ca.arn }));
    expect((await a.acm(user).send(new DescribeCertificateCommand({ CertificateArn }))).Certificate?.Status).toBe('ISSUED');
    const denied = await errorOf(a.acm(user).send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from('passphrase') })));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.$metadata?.httpStatusCode).toBe(400);
    expect(denied.message).toContain('acm:ExportCertificate');
    expect(denied.message).toContain(CertificateArn);
    // The policy refuses public certificates.
    expect((await errorOf(a.acm(user).send(new RequestCertificateCommand({ DomainName: HOST })))).name).toBe('AccessDeniedException');
    expect(a.c.gateway.service('acm').certificates(a.id).some((c) => c.type === 'AMAZON_ISSUED')).toBe(false);

    // CloudTrail records ACM's calls, the passphrase hidden.
    await a.acm().send(new ExportCertificateCommand({ CertificateArn, Passphrase: Buffer.from('passphrase') }));
    const trail = a.c.gateway.service('cloudtrail').trail.all(a.id).filter((r) => r.eventSource === 'acm.amazonaws.com');
    expect(trail.map((r) => [r.eventName, r.errorCode ?? 'ok'])).toEqual(expect.arrayContaining([
      ['RequestCertificate', 'ok'], ['ExportCertificate', 'AccessDeniedException'], ['RequestCertificate', 'AccessDeniedException'], ['ExportCertificate', 'ok'],
    ]));
    const exported = trail.find((r) => r.eventName === 'ExportCertificate' && !r.errorCode)!;
    expect(exported.requestParameters).toMatchObject({ certificateArn: CertificateArn, passphrase: 'HIDDEN_DUE_TO_SECURITY_REASONS' });
  });

  it("another account cannot issue with the company CA, nor read it through ACM PCA", async () => {
    const a = account();
    const b = account();
    const e = await errorOf(b.acm().send(new RequestCertificateCommand({ DomainName: HOST, CertificateAuthorityArn: a.ca.arn })));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toContain(a.ca.arn);
    expect(b.c.gateway.service('acm').certificates(b.id)).toEqual([]);
    const missing = a.ca.arn.replace(/[0-9a-f]{12}$/, '000000000000');
    expect((await errorOf(a.acm().send(new RequestCertificateCommand({ DomainName: HOST, CertificateAuthorityArn: missing })))).name).toBe('ResourceNotFoundException');
    expect((await errorOf(a.acm().send(new RequestCertificateCommand({ DomainName: 'not a name', CertificateAuthorityArn: a.ca.arn })))).name).toBe('ValidationException');
    const foreign = await pca(b.rootCreds, 'DescribeCertificateAuthority', { CertificateAuthorityArn: a.ca.arn });
    expect(foreign.status).toBe(400);
  });

  it('ACM PCA describes the company CA and hands out its certificate; a user needs acm-pca permissions', async () => {
    const a = account();
    const d = await pca(a.rootCreds, 'DescribeCertificateAuthority', { CertificateAuthorityArn: a.ca.arn });
    expect(d.status).toBe(200);
    expect(d.body['CertificateAuthority']).toMatchObject({ Arn: a.ca.arn, OwnerAccount: a.id, Type: 'ROOT', Status: 'ACTIVE' });
    const cert = await pca(a.rootCreds, 'GetCertificateAuthorityCertificate', { CertificateAuthorityArn: a.ca.arn });
    expect(cert.body['Certificate']).toBe(a.ca.certPem);
    const list = await pca(a.rootCreds, 'ListCertificateAuthorities', {});
    expect((list.body['CertificateAuthorities'] as Array<{ Arn: string }>).map((c) => c.Arn)).toEqual([a.ca.arn]);
    const nobody = await a.newUser('nobody', [{ Effect: 'Allow', Action: 'acm:*', Resource: '*' }]);
    const denied = await pca(nobody, 'GetCertificateAuthorityCertificate', { CertificateAuthorityArn: a.ca.arn });
    expect(denied.status).toBe(400);
    expect(denied.body['__type']).toMatch(/AccessDenied/);
    expect((await pca(a.rootCreds, 'DeleteCertificateAuthority', { CertificateAuthorityArn: a.ca.arn })).status).toBe(501);
  });
});
