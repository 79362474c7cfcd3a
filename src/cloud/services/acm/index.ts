// AWS Certificate Manager (`acm`, JSON 1.1, X-Amz-Target CertificateManager.*) and the company's
// private CA of AWS Private CA (`acm-pca`, JSON 1.1, ACMPrivateCA.*) in the lab cloud, answered
// whole by the gateway (never forwarded to moto, whose ACM issues self-signed certificates with no
// usable CA and cannot export a key a client can decrypt).
//
// What lab `host` needs: the provisioning makes the account's company CA (`privateCa(account)`,
// "AWS Private CA" with ACM's permission to issue already granted) and hands its ARN to the student;
// RequestCertificate with that CertificateAuthorityArn issues a private certificate at once (private
// certificates need no domain validation), signed by the CA (src/host/web/company-ca.ts), key RSA
// 2048; ExportCertificate returns certificate, chain and the private key as PEM "ENCRYPTED PRIVATE
// KEY" (PKCS#8, PBES2 with AES-256-CBC) under the caller's passphrase, as AWS does. Without a
// CertificateAuthorityArn the request is for a public (Amazon-issued) certificate: it stays
// PENDING_VALIDATION (the lab cloud has no public DNS or mail to validate with; after 72 hours of lab
// time VALIDATION_TIMED_OUT, as AWS) and cannot be exported.
//
// Authorization is the gateway's (authz-map: acm:RequestCertificate on `*` with acm:DomainNames,
// acm:KeyAlgorithm, acm:CertificateAuthority...; the other operations on the certificate's ARN;
// acm-pca:* on the CA's ARN), as the Service Authorization Reference lists them: RequestCertificate
// has no dependent action (ACM's own service principal, permitted by the CA, signs). A CA of another
// account is refused with AccessDeniedException: the lab cloud models no CA resource policy (RAM
// sharing), so no CA is ever shared across accounts. State is per lab-cloud account and region, in
// memory; the CA folders are in a temporary folder removed when the lab cloud stops.
import { createPrivateKey, createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import { issueServerCertificate } from '../../../host/web/company-ca.ts';
import { CA_ARN, CaBook, certFacts, type PrivateCa } from './pca.ts';

/** A certificate as graders see it (keyPem included: never answered to a call except encrypted by ExportCertificate). */
export interface AcmCertificate {
  arn: string;
  account: string;
  region: string;
  type: 'PRIVATE' | 'AMAZON_ISSUED';
  status: 'ISSUED' | 'PENDING_VALIDATION' | 'VALIDATION_TIMED_OUT';
  domainName: string;
  /** DomainName first, then the other names, as ACM lists them. */
  subjectAlternativeNames: string[];
  keyAlgorithm: string;
  certificateAuthorityArn?: string;
  validationMethod?: string;
  /** Leaf certificate (PEM), chain (the CA certificate, PEM), PKCS#8 private key (PEM): private certificates only. */
  certPem?: string;
  chainPem?: string;
  keyPem?: string;
  /** Serial as ACM shows it (colon-separated hex). */
  serial?: string;
  notBefore?: Date;
  notAfter?: Date;
  createdAt: Date;
  issuedAt?: Date;
  tags: Record<string, string>;
  /** Lab-clock times of each successful ExportCertificate. */
  exports: Date[];
}

export interface CompanyPrivateCa {
  arn: string;
  /** The CA certificate (PEM) clients trust. */
  certPem: string;
  /** A file holding certPem. */
  bundleFile: string;
}

const KEY_ALGORITHMS = ['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1'];
const DOMAIN = /^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):(\d{12}):certificate\/([0-9a-f-]{36})$/;
/** ACM private certificates are valid 13 months. */
const VALIDITY_DAYS = 395;
/** A public certificate not validated within 72 hours times out (ACM User Guide, "Troubleshoot certificate requests"). */
const VALIDATION_TIMEOUT_MS = 72 * 3600_000;
const IDEMPOTENCY_MS = 3600_000;
const PCA_ANSWERED = ['DescribeCertificateAuthority', 'GetCertificateAuthorityCertificate', 'ListCertificateAuthorities', 'GetCertificate'];

function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message);
}

function invalidField(field: string, constraint: string, value: unknown): ApiError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return validation(`1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`);
}

const seconds = (d: Date | undefined): number | undefined => (d ? d.getTime() / 1000 : undefined);

export class AcmService implements ServiceRuntime {
  private readonly dir: string;
  private readonly cas: CaBook;
  /** By certificate ARN. */
  private readonly certs = new Map<string, AcmCertificate>();
  private readonly tokens = new Map<string, { arn: string; atMs: number }>();
  readonly extensions: ServiceExtension[];

  constructor(private readonly caps: Capabilities) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-acm-pca-'));
    this.cas = new CaBook(this.dir);
    this.extensions = [
      { service: 'acm', serve: (ctx) => this.serveAcm(ctx) },
      { service: 'acm-pca', serve: (ctx) => this.servePca(ctx) },
    ];
  }

  // ---- for provisioning and graders ----

  /** The account's company CA in `region` (default: the lab cloud's), created on first call. */
  privateCa(account: string, region: string = this.caps.region): CompanyPrivateCa {
    const ca = this.cas.ensure(account, region, this.caps.clock.nowMs());
    return { arn: ca.arn, certPem: ca.certPem, bundleFile: ca.bundleFile };
  }

  /** The account's certificates (every region), with their private keys. */
  certificates(account: string): AcmCertificate[] {
    return [...this.certs.values()].filter((c) => c.account === account).map((c) => this.current(c));
  }

  dropAccount(account: string): void {
    for (const [arn, c] of this.certs) if (c.account === account) this.certs.delete(arn);
    for (const k of this.tokens.keys()) if (k.startsWith(`${account}/`)) this.tokens.delete(k);
    this.cas.drop(account);
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ---- ACM ----

  /** A public certificate's status moves with the lab clock. */
  private current(c: AcmCertificate): AcmCertificate {
    if (c.status === 'PENDING_VALIDATION' && this.caps.clock.nowMs() - c.createdAt.getTime() >= VALIDATION_TIMEOUT_MS) c.status = 'VALIDATION_TIMED_OUT';
    return c;
  }

  private find(ctx: CallContext): AcmCertificate {
    const arn = ctx.call.params['CertificateArn'];
    if (typeof arn !== 'string' || arn.length < 20 || arn.length > 2048) {
      throw invalidField('certificateArn', 'Member must have length between 20 and 2048', arn);
    }
    if (!CERT_ARN.test(arn)) throw new ApiError(400, 'InvalidArnException', `String '${arn}' is not a valid ARN.`);
    const c = this.certs.get(arn);
    if (!c || c.account !== ctx.cred.account) throw new ApiError(400, 'ResourceNotFoundException', `Certificate with arn ${arn} not found`);
    return this.current(c);
  }

  private async serveAcm(ctx: CallContext): Promise<Reply | undefined> {
    const { call, requestId } = ctx;
    const ok = (v: unknown): Reply => jsonResult(v, requestId);
    switch (call.operation) {
      case 'RequestCertificate':
        return ok({ CertificateArn: this.request(ctx) });
      case 'DescribeCertificate':
        return ok({ Certificate: this.detail(this.find(ctx)) });
      case 'GetCertificate': {
        const c = this.find(ctx);
        if (!c.certPem) throw notIssued(c);
        return ok({ Certificate: c.certPem, CertificateChain: c.chainPem });
      }
      case 'ExportCertificate':
        return ok(this.export(ctx));
      case 'ListCertificates':
        return ok(this.list(ctx));
      case 'DeleteCertificate': {
        const c = this.find(ctx);
        this.certs.delete(c.arn);
        return ok({});
      }
      case 'AddTagsToCertificate': {
        const c = this.find(ctx);
        const tags = parseTags(call.params['Tags'], true);
        if (Object.keys({ ...c.tags, ...tags }).length > 50) throw new ApiError(400, 'TooManyTagsException', 'the certificate would have more than 50 tags');
        Object.assign(c.tags, tags);
        return ok({});
      }
      case 'RemoveTagsFromCertificate': {
        const c = this.find(ctx);
        const raw = call.params['Tags'];
        if (!Array.isArray(raw) || raw.length === 0) throw invalidField('tags', 'Member must have length greater than or equal to 1', raw);
        for (const t of raw as Array<{ Key?: unknown; Value?: unknown }>) {
          if (typeof t?.Key !== 'string') continue;
          if (t.Value === undefined || t.Value === null || c.tags[t.Key] === t.Value) delete c.tags[t.Key];
        }
        return ok({});
      }
      case 'ListTagsForCertificate': {
        const c = this.find(ctx);
        return ok({ Tags: Object.entries(c.tags).map(([Key, Value]) => ({ Key, Value })) });
      }
      default:
        throw new ApiError(501, 'NotImplemented', `${call.operation} is not available in the lab cloud: its ACM answers RequestCertificate, DescribeCertificate, GetCertificate, ExportCertificate, ListCertificates, DeleteCertificate and the certificate tag operations.`);
    }
  }

  private request(ctx: CallContext): string {
    const { call, cred } = ctx;
    const p = call.params;
    const account = cred.account;
    const region = call.region;
    const domain = p['DomainName'];
    if (typeof domain !== 'string' || domain.length < 1 || domain.length > 253) throw invalidField('domainName', 'Member must have length between 1 and 253', domain);
    if (!DOMAIN.test(domain)) throw invalidField('domainName', `Member must satisfy regular expression pattern: ${DOMAIN.source.slice(1, -1)}`, domain);
    const rawSans = p['SubjectAlternativeNames'];
    const sans: string[] = [];
    if (rawSans !== undefined && rawSans !== null) {
      if (!Array.isArray(rawSans) || rawSans.length < 1 || rawSans.length > 100) throw invalidField('subjectAlternativeNames', 'Member must have length between 1 and 100', rawSans);
      for (const s of rawSans) {
        if (typeof s !== 'string' || s.length < 1 || s.length > 253 || !DOMAIN.test(s)) {
          throw invalidField('subjectAlternativeNames', `Member must satisfy constraint: [Member must have length less than or equal to 253, Member must satisfy regular expression pattern: ${DOMAIN.source.slice(1, -1)}]`, rawSans);
        }
        sans.push(s);
      }
    }
    const names = [...new Set([domain, ...sans])];
    const keyAlgorithm = p['KeyAlgorithm'] ?? 'RSA_2048';
    if (typeof keyAlgorithm !== 'string' || !KEY_ALGORITHMS.includes(keyAlgorithm)) {
      throw invalidField('keyAlgorithm', `Member must satisfy enum value set: [${KEY_ALGORITHMS.join(', ')}]`, keyAlgorithm);
    }
    if (!['RSA_2048', 'EC_prime256v1', 'EC_secp384r1'].includes(keyAlgorithm)) {
      throw validation(`KeyAlgorithm ${keyAlgorithm} is not supported for RequestCertificate (ACM issues RSA_2048, EC_prime256v1 and EC_secp384r1 keys).`);
    }
    if (keyAlgorithm !== 'RSA_2048') {
      throw validation(`KeyAlgorithm ${keyAlgorithm}: the lab cloud's company CA issues RSA_2048 keys only (AWS would issue an ECDSA key); request RSA_2048, the default.`);
    }
    const tags = p['Tags'] === undefined ? {} : parseTags(p['Tags'], true);
    const method = p['ValidationMethod'];
    if (method !== undefined && (typeof method !== 'string' || !['EMAIL', 'DNS', 'HTTP'].includes(method))) {
      throw invalidField('validationMethod', 'Member must satisfy enum value set: [EMAIL, DNS, HTTP]', method);
    }
    const token = p['IdempotencyToken'];
    const nowMs = this.caps.clock.nowMs();
    const tokenKey = typeof token === 'string' && token ? `${account}/${region}/${token}` : undefined;
    if (tokenKey) {
      const seen = this.tokens.get(tokenKey);
      if (seen && nowMs - seen.atMs < IDEMPOTENCY_MS && this.certs.has(seen.arn)) return seen.arn;
    }

    const caArn = p['CertificateAuthorityArn'];
    let ca: PrivateCa | undefined;
    if (caArn !== undefined && caArn !== null) {
      if (typeof caArn !== 'string' || !/^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(\/[\w+=,.@-]+)*$/.test(caArn)) {
        throw invalidField('certificateAuthorityArn', 'Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:acm-pca:[\\w+=/,.@-]*:[0-9]+:[\\w+=,.@-]+(/[\\w+=,.@-]+)*', caArn);
      }
      const m = CA_ARN.exec(caArn);
      ca = this.cas.byArn(caArn);
      if (m && m[2] !== account && ca) {
        throw new ApiError(400, 'AccessDeniedException', `The certificate authority ${caArn} belongs to account ${m[2]} and is not shared with account ${account}: no resource-based policy on it allows acm-pca:IssueCertificate for this account (the lab cloud shares no private CA across accounts).`);
      }
      if (!ca || ca.account !== account) throw new ApiError(400, 'ResourceNotFoundException', `Could not find certificate authority ${caArn}.`);
      if (ca.region !== region) throw validation(`The certificate authority ${caArn} is in ${ca.region}; request the certificate in that region (a private CA issues ACM certificates in its own region only).`);
    }

    const id = randomUUID();
    const arn = `arn:aws:acm:${region}:${account}:certificate/${id}`;
    const now = new Date(nowMs);
    const cert: AcmCertificate = {
      arn, account, region, type: ca ? 'PRIVATE' : 'AMAZON_ISSUED', status: ca ? 'ISSUED' : 'PENDING_VALIDATION',
      domainName: domain, subjectAlternativeNames: names, keyAlgorithm, createdAt: now, tags, exports: [],
      ...(ca ? { certificateAuthorityArn: ca.arn } : { validationMethod: typeof method === 'string' ? method : 'EMAIL' }),
    };
    if (ca) {
      // Validity from the earlier of the lab clock and the wall clock: TLS clients check it in real time.
      const issued = issueServerCertificate(ca.issuer, domain, { altNames: names.slice(1), key: 2048, days: VALIDITY_DAYS, now: new Date(Math.min(nowMs, Date.now())) });
      const facts = certFacts(issued.certPem);
      Object.assign(cert, {
        certPem: issued.certPem, chainPem: ca.certPem, keyPem: issued.keyPem, serial: facts.serialColons,
        notBefore: facts.notBefore, notAfter: facts.notAfter, issuedAt: now,
      });
    }
    this.certs.set(arn, cert);
    if (tokenKey) this.tokens.set(tokenKey, { arn, atMs: nowMs });
    return arn;
  }

  private detail(c: AcmCertificate): Record<string, unknown> {
    const common = {
      CertificateArn: c.arn, DomainName: c.domainName, SubjectAlternativeNames: c.subjectAlternativeNames,
      CreatedAt: seconds(c.createdAt), Status: c.status, Type: c.type, KeyAlgorithm: c.keyAlgorithm, InUseBy: [],
      RenewalEligibility: c.type === 'PRIVATE' ? 'ELIGIBLE' : 'INELIGIBLE',
      Options: { CertificateTransparencyLoggingPreference: c.type === 'PRIVATE' ? 'DISABLED' : 'ENABLED' },
    };
    if (c.type === 'AMAZON_ISSUED') {
      return {
        ...common,
        DomainValidationOptions: c.subjectAlternativeNames.map((d) => this.validationOption(c, d)),
        ...(c.status === 'VALIDATION_TIMED_OUT' ? { FailureReason: 'OTHER' } : {}),
      };
    }
    const facts = certFacts(c.certPem!);
    return {
      ...common,
      CertificateAuthorityArn: c.certificateAuthorityArn,
      Serial: c.serial, Subject: facts.subject, Issuer: facts.issuer,
      IssuedAt: seconds(c.issuedAt), NotBefore: seconds(c.notBefore), NotAfter: seconds(c.notAfter),
      SignatureAlgorithm: 'SHA256WITHRSA',
      KeyUsages: [{ Name: 'DIGITAL_SIGNATURE' }, { Name: 'KEY_ENCIPHERMENT' }],
      ExtendedKeyUsages: [{ Name: 'TLS_WEB_SERVER_AUTHENTICATION', OID: '1.3.6.1.5.5.7.3.1' }],
    };
  }

  private validationOption(c: AcmCertificate, domain: string): Record<string, unknown> {
    const base = domain.replace(/^\*\./, '');
    const status = c.status === 'VALIDATION_TIMED_OUT' ? 'FAILED' : 'PENDING_VALIDATION';
    if (c.validationMethod === 'DNS') {
      const h = Buffer.from(`${c.arn}/${base}`).toString('hex').slice(-32);
      return {
        DomainName: domain, ValidationDomain: domain, ValidationStatus: status, ValidationMethod: 'DNS',
        ResourceRecord: { Name: `_${h}.${base}.`, Type: 'CNAME', Value: `_${h.split('').reverse().join('')}.seclab-validations.example.` },
      };
    }
    return {
      DomainName: domain, ValidationDomain: base, ValidationStatus: status, ValidationMethod: c.validationMethod,
      ...(c.validationMethod === 'EMAIL' ? { ValidationEmails: ['admin', 'administrator', 'hostmaster', 'postmaster', 'webmaster'].map((u) => `${u}@${base}`) } : {}),
    };
  }

  private export(ctx: CallContext): Record<string, string> {
    const c = this.find(ctx);
    const raw = ctx.call.params['Passphrase'];
    if (raw === undefined || raw === null) throw invalidField('passphrase', 'Member must not be null', raw);
    const passphrase = typeof raw === 'string' ? Buffer.from(raw, 'base64') : Buffer.alloc(0);
    if (typeof raw !== 'string' || passphrase.length < 4 || passphrase.length > 128) {
      // AWS does not echo a blob's value.
      throw validation(`1 validation error detected: Value at 'passphrase' failed to satisfy constraint: Member must have length ${passphrase.length < 4 ? 'greater than or equal to 4' : 'less than or equal to 128'}`);
    }
    if ([...passphrase].some((b) => b < 0x20 || b > 0x7e || b === 0x23 || b === 0x24 || b === 0x25)) {
      throw validation('The passphrase may hold any printable ASCII character except #, $ and %.');
    }
    if (c.type !== 'PRIVATE') {
      throw validation(`Certificate ARN: ${c.arn} is not a private certificate. Only private certificates (RequestCertificate with a CertificateAuthorityArn) can be exported; this public certificate stays ${c.status}: the lab cloud has no public DNS or mail to validate it with.`);
    }
    const key = createPrivateKey(c.keyPem!).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
    c.exports.push(new Date(this.caps.clock.nowMs()));
    return { Certificate: c.certPem!, CertificateChain: c.chainPem!, PrivateKey: key };
  }

  private list(ctx: CallContext): Record<string, unknown> {
    const p = ctx.call.params;
    const statuses = Array.isArray(p['CertificateStatuses']) ? (p['CertificateStatuses'] as unknown[]).filter((s): s is string => typeof s === 'string') : [];
    const max = typeof p['MaxItems'] === 'number' ? p['MaxItems'] : 1000;
    if (max < 1 || max > 1000) throw invalidField('maxItems', 'Member must have value between 1 and 1000', String(max));
    const start = typeof p['NextToken'] === 'string' ? Number.parseInt(Buffer.from(p['NextToken'], 'base64').toString('utf8'), 10) || 0 : 0;
    const all = [...this.certs.values()]
      .filter((c) => c.account === ctx.cred.account && c.region === ctx.call.region)
      .map((c) => this.current(c))
      .filter((c) => statuses.length === 0 || statuses.includes(c.status));
    const page = all.slice(start, start + max);
    const summary = page.map((c) => ({
      CertificateArn: c.arn, DomainName: c.domainName,
      SubjectAlternativeNameSummaries: c.subjectAlternativeNames, HasAdditionalSubjectAlternativeNames: false,
      Status: c.status, Type: c.type, KeyAlgorithm: c.keyAlgorithm, InUse: false, Exported: c.exports.length > 0,
      RenewalEligibility: c.type === 'PRIVATE' ? 'ELIGIBLE' : 'INELIGIBLE',
      CreatedAt: seconds(c.createdAt), IssuedAt: seconds(c.issuedAt), NotBefore: seconds(c.notBefore), NotAfter: seconds(c.notAfter),
      ...(c.type === 'PRIVATE' ? { KeyUsages: ['DIGITAL_SIGNATURE', 'KEY_ENCIPHERMENT'], ExtendedKeyUsages: ['TLS_WEB_SERVER_AUTHENTICATION'] } : {}),
    }));
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return { CertificateSummaryList: summary, ...(next ? { NextToken: next } : {}) };
  }

  // ---- ACM PCA ----

  private findCa(ctx: CallContext): PrivateCa {
    const arn = ctx.call.params['CertificateAuthorityArn'];
    if (typeof arn !== 'string' || arn.length < 5 || arn.length > 200) throw invalidField('certificateAuthorityArn', 'Member must have length between 5 and 200', arn);
    if (!/^arn:[\w+=/,.@-]+:acm-pca:[\w+=/,.@-]*:[0-9]*:[\w+=,.@-]+(\/[\w+=,.@-]+)*$/.test(arn)) throw new ApiError(400, 'InvalidArnException', `String '${arn}' is not a valid ARN.`);
    const ca = this.cas.byArn(arn);
    if (!ca || ca.account !== ctx.cred.account || ca.region !== ctx.call.region) throw new ApiError(400, 'ResourceNotFoundException', `Could not find certificate authority ${arn}.`);
    return ca;
  }

  private describeCa(ca: PrivateCa): Record<string, unknown> {
    const f = certFacts(ca.certPem);
    return {
      Arn: ca.arn, OwnerAccount: ca.account, CreatedAt: ca.createdAtMs / 1000, LastStateChangeAt: ca.createdAtMs / 1000,
      Type: 'ROOT', Serial: f.serialColons, Status: 'ACTIVE', NotBefore: seconds(f.notBefore), NotAfter: seconds(f.notAfter),
      CertificateAuthorityConfiguration: {
        KeyAlgorithm: 'RSA_2048', SigningAlgorithm: 'SHA256WITHRSA',
        Subject: { CommonName: f.commonName, ...(f.organization ? { Organization: f.organization } : {}) },
      },
      RevocationConfiguration: { CrlConfiguration: { Enabled: false }, OcspConfiguration: { Enabled: false } },
      KeyStorageSecurityStandard: 'FIPS_140_2_LEVEL_3_OR_HIGHER', UsageMode: 'GENERAL_PURPOSE',
    };
  }

  private async servePca(ctx: CallContext): Promise<Reply | undefined> {
    const { call, requestId, cred } = ctx;
    const ok = (v: unknown): Reply => jsonResult(v, requestId);
    switch (call.operation) {
      case 'DescribeCertificateAuthority':
        return ok({ CertificateAuthority: this.describeCa(this.findCa(ctx)) });
      case 'GetCertificateAuthorityCertificate':
        return ok({ Certificate: this.findCa(ctx).certPem });
      case 'ListCertificateAuthorities': {
        const owner = call.params['ResourceOwner'];
        if (owner !== undefined && owner !== 'SELF' && owner !== 'OTHER_ACCOUNTS') throw invalidField('resourceOwner', 'Member must satisfy enum value set: [SELF, OTHER_ACCOUNTS]', owner);
        const cas = owner === 'OTHER_ACCOUNTS' ? [] : this.cas.list(cred.account, call.region);
        return ok({ CertificateAuthorities: cas.map((c) => this.describeCa(c)) });
      }
      case 'GetCertificate': {
        // An ACM certificate as its CA issued it: <CA ARN>/certificate/<serial hex>.
        const ca = this.findCa(ctx);
        const arn = call.params['CertificateArn'];
        const serial = typeof arn === 'string' && arn.startsWith(`${ca.arn}/certificate/`) ? arn.slice(ca.arn.length + '/certificate/'.length) : undefined;
        const c = serial ? [...this.certs.values()].find((x) => x.certificateAuthorityArn === ca.arn && x.serial?.replace(/:/g, '') === serial.toLowerCase()) : undefined;
        if (!c) throw new ApiError(400, 'ResourceNotFoundException', `Could not find certificate ${String(arn)}.`);
        return ok({ Certificate: c.certPem, CertificateChain: ca.certPem });
      }
      default:
        throw new ApiError(501, 'NotImplemented', `${call.operation} is not available in the lab cloud: its AWS Private CA is the company CA the lab provides (${PCA_ANSWERED.join(', ')}); issue certificates with ACM's RequestCertificate.`);
    }
  }
}

function notIssued(c: AcmCertificate): ApiError {
  return new ApiError(400, 'RequestInProgressException', `Certificate ${c.arn} is not yet issued: it is ${c.status} (a public certificate; the lab cloud has no public DNS or mail to validate it with: request a private certificate with a CertificateAuthorityArn).`);
}

function parseTags(raw: unknown, required: boolean): Record<string, string> {
  if (!Array.isArray(raw) || (required && raw.length === 0) || raw.length > 50) throw invalidField('tags', 'Member must have length between 1 and 50', raw);
  const out: Record<string, string> = {};
  for (const t of raw as Array<{ Key?: unknown; Value?: unknown }>) {
    const k = t?.Key;
    const v = t?.Value ?? '';
    if (typeof k !== 'string' || k.length < 1 || k.length > 128) throw invalidField('tags.member.key', 'Member must have length between 1 and 128', k);
    if (typeof v !== 'string' || v.length > 256) throw invalidField('tags.member.value', 'Member must have length less than or equal to 256', v);
    if (k.toLowerCase().startsWith('aws:')) throw new ApiError(400, 'InvalidTagException', `Tag key ${k}: the aws: prefix is reserved for AWS use.`);
    out[k] = v;
  }
  return out;
}

/** Whether a private key (PEM, encrypted with `passphrase` or not) is the one of a certificate: for graders and tests. */
export function keyMatchesCertificate(certPem: string, keyPem: string, passphrase?: string): boolean {
  const pub = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  const priv = createPrivateKey(passphrase === undefined ? keyPem : { key: keyPem, passphrase });
  return createPublicKey(priv).export({ type: 'spki', format: 'der' }).equals(pub);
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    acm: AcmService;
  }
}

export const acmService = defineService('acm', (caps) => new AcmService(caps));
