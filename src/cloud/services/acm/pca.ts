// The company's private CA of one lab-cloud account and region, "AWS Private CA"-style: a root CA
// made by the lab cloud's CA helper (src/host/web/company-ca.ts over gateway/tls.ts labCa: key mode
// 0600, in a folder of the service's own) and named by an acm-pca ARN. The ACM side issues
// certificates with it; the ACM PCA side describes it and hands out its certificate.
import { randomUUID, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { companyCa, type CompanyCa } from '../../../host/web/company-ca.ts';

export interface PrivateCa {
  arn: string;
  account: string;
  region: string;
  /** The CA certificate (PEM): what clients trust. */
  certPem: string;
  /** A file holding certPem (what `curl --cacert`, `probe(..., { caFile })` take). */
  bundleFile: string;
  /** Lab-clock time of creation (ms). */
  createdAtMs: number;
  /** Internal: the issuer with the CA's key (never answered to a call). */
  issuer: CompanyCa;
}

export const CA_ARN = /^arn:aws[a-z-]*:acm-pca:([a-z0-9-]*):(\d{12}):certificate-authority\/([0-9a-f-]{36})$/;

/** The CAs of a lab cloud: one per account and region, created when provisioning asks for it. */
export class CaBook {
  private readonly byKey = new Map<string, PrivateCa>();

  constructor(private readonly dir: string) {}

  /** The account's CA in a region, created on first call. */
  ensure(account: string, region: string, nowMs: number): PrivateCa {
    const key = `${account}/${region}`;
    const found = this.byKey.get(key);
    if (found) return found;
    const id = randomUUID();
    const issuer = companyCa(path.join(this.dir, `${account}-${region}-${id}`));
    const ca: PrivateCa = {
      arn: `arn:aws:acm-pca:${region}:${account}:certificate-authority/${id}`,
      account, region, certPem: issuer.certPem, bundleFile: issuer.bundleFile, createdAtMs: nowMs, issuer,
    };
    this.byKey.set(key, ca);
    return ca;
  }

  byArn(arn: string): PrivateCa | undefined {
    const m = CA_ARN.exec(arn);
    if (!m) return undefined;
    const ca = this.byKey.get(`${m[2]}/${m[1]}`);
    return ca?.arn === arn ? ca : undefined;
  }

  list(account: string, region?: string): PrivateCa[] {
    return [...this.byKey.values()].filter((c) => c.account === account && (region === undefined || c.region === region));
  }

  drop(account: string): void {
    for (const [k, c] of this.byKey) if (c.account === account) this.byKey.delete(k);
  }
}

/** Certificate facts as ACM and ACM PCA report them. */
export function certFacts(pem: string): { serialColons: string; serialHex: string; subject: string; issuer: string; notBefore: Date; notAfter: Date; commonName: string; organization?: string } {
  const x = new X509Certificate(pem);
  const hex = x.serialNumber.toLowerCase().padStart(2, '0');
  const evenHex = hex.length % 2 ? `0${hex}` : hex;
  const field = (dn: string, name: string): string | undefined => dn.split('\n').find((l) => l.startsWith(`${name}=`))?.slice(name.length + 1);
  const oneLine = (dn: string): string => dn.split('\n').filter(Boolean).join(',');
  return {
    serialColons: evenHex.match(/../g)!.join(':'),
    serialHex: evenHex,
    subject: oneLine(x.subject),
    issuer: field(x.issuer, 'CN') ?? oneLine(x.issuer),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    commonName: field(x.subject, 'CN') ?? '',
    organization: field(x.subject, 'O'),
  };
}
