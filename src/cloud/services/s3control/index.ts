// S3 Control in the lab cloud (call.service 's3control': signed as s3, paths under /v20180820/; see
// gateway/protocol/s3control.ts). moto 5.2 serves it; this folder corrects what moto gets wrong about
// access points (docs/moto-deviations.md, "S3 Control"):
//  - an access point belongs to the Region it was created in: its ARN and endpoints name that Region,
//    ListAccessPoints lists the Region's own, and another Region does not find it (moto: every ARN
//    says us-east-1, every Region lists and finds every access point of the account);
//  - GetAccessPointPolicyStatus says whether the access point's policy is public, by the S3 User
//    Guide's definition (moto: always IsPublic true).
// The account's Block Public Access (Get/Put/DeletePublicAccessBlock) is moto's as it is; S3's own
// runtime re-reads it after a change (services/s3).
import { ApiError } from '../../gateway/api-error.ts';
import type { CallContext, ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { UpstreamResponse } from '../../gateway/upstream.ts';
import { FORWARD_MARKER } from '../../gateway/protocol/wire.ts';
import { isPublicPolicy } from '../s3/public-access.ts';

/** Operations on one access point, named by `Name`. */
const ACCESS_POINT_OPS = new Set([
  'GetAccessPoint', 'DeleteAccessPoint', 'GetAccessPointPolicy', 'PutAccessPointPolicy', 'DeleteAccessPointPolicy', 'GetAccessPointPolicyStatus',
]);

const MOTO_REGION = 'us-east-1';

function withBody(res: UpstreamResponse, body: string): UpstreamResponse {
  const headers = { ...res.headers };
  delete headers['content-length'];
  return { ...res, headers, body: Buffer.from(body) };
}

export class S3ControlService implements ServiceRuntime {
  /** `account|name` -> the Region the access point was created in through the lab cloud. */
  private readonly regions = new Map<string, string>();
  readonly extensions: ServiceExtension[];

  constructor(private readonly caps: Capabilities) {
    this.extensions = [{
      service: 's3control',
      before: (ctx) => this.before(ctx),
      after: (ctx, res) => this.after(ctx, res),
    }];
  }

  /** The Region of an access point, when it was created through the lab cloud. */
  regionOf(account: string, name: string): string | undefined {
    return this.regions.get(`${account}|${name}`);
  }

  dropAccount(account: string): void {
    for (const k of [...this.regions.keys()]) if (k.startsWith(`${account}|`)) this.regions.delete(k);
  }

  private async before({ cred, call }: CallContext): Promise<void> {
    const name = String(call.params['Name'] ?? '');
    if (!ACCESS_POINT_OPS.has(call.operation) || !name) return;
    const region = this.regionOf(cred.account, name);
    if (region && region !== call.region) throw new ApiError(404, 'NoSuchAccessPoint', 'The specified accesspoint does not exist');
  }

  /** moto's ARNs and endpoints of an access point, in the access point's Region. */
  private localize(account: string, xml: string, name: string): string {
    const region = this.regionOf(account, name);
    if (!region || region === MOTO_REGION) return xml;
    return xml
      .split(`arn:aws:s3:${MOTO_REGION}:${account}:accesspoint/${name}<`).join(`arn:aws:s3:${region}:${account}:accesspoint/${name}<`)
      .replace(/(<(?:ipv4|fips|fips_dualstack|dualstack)>[^<]*?)\.us-east-1\.amazonaws\.com</g, `$1.${region}.amazonaws.com<`);
  }

  private async after({ cred, call }: CallContext, res: UpstreamResponse): Promise<UpstreamResponse | void> {
    const account = cred.account;
    const name = String(call.params['Name'] ?? '');
    const xml = () => res.body.toString('utf8');
    switch (call.operation) {
      case 'CreateAccessPoint':
        this.regions.set(`${account}|${name}`, call.region);
        return withBody(res, this.localize(account, xml(), name));
      case 'DeleteAccessPoint':
        this.regions.delete(`${account}|${name}`);
        return;
      case 'GetAccessPoint':
        return withBody(res, this.localize(account, xml(), name));
      case 'ListAccessPoints': {
        const body = xml().replace(/<AccessPoint>[\s\S]*?<\/AccessPoint>/g, (entry) => {
          const n = /<Name>([^<]*)<\/Name>/.exec(entry)?.[1] ?? '';
          const region = this.regionOf(account, n) ?? MOTO_REGION;
          return region === call.region ? this.localize(account, entry, n) : '';
        });
        return withBody(res, body);
      }
      case 'GetAccessPointPolicyStatus': {
        const policy = await this.policyOf(account, name, call.region);
        let isPublic = false;
        try {
          isPublic = policy !== undefined && isPublicPolicy(JSON.parse(policy));
        } catch {
          isPublic = false;
        }
        return withBody(res, xml().replace(/<IsPublic>[^<]*<\/IsPublic>/, `<IsPublic>${isPublic}</IsPublic>`));
      }
      default:
        return;
    }
  }

  /** An access point's policy document as moto holds it; undefined when it has none. */
  private async policyOf(account: string, name: string, region: string): Promise<string | undefined> {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const res = await this.caps.target.forward(account, {
      method: 'GET',
      url: `/v20180820/accesspoint/${encodeURIComponent(name)}/policy?${FORWARD_MARKER}`,
      headers: {
        'x-amz-account-id': account,
        'x-amz-date': amzDate,
        authorization: `AWS4-HMAC-SHA256 Credential=AKIASECLABGATEWAY000/${amzDate.slice(0, 8)}/${region}/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: Buffer.alloc(0),
    }).catch(() => undefined);
    if (!res || res.status >= 300) return undefined;
    const m = /<Policy>([\s\S]*?)<\/Policy>/.exec(res.body.toString('utf8'));
    return m ? m[1]!.replace(/&quot;|&lt;|&gt;|&apos;|&amp;/g, (e) => ({ '&quot;': '"', '&lt;': '<', '&gt;': '>', '&apos;': "'", '&amp;': '&' })[e]!) : undefined;
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    s3control: S3ControlService;
  }
}

export const s3controlService = defineService('s3control', (caps) => new S3ControlService(caps));
