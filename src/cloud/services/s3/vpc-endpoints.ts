// VPC endpoints on the calls' path. moto keeps endpoints (CreateVpcEndpoint, ModifyVpcEndpoint with
// their PolicyDocument) but no traffic goes through them; in the lab cloud a simulated client inside a
// VPC says which endpoint its call goes through with the header X-Seclab-Vpce (README, "Gateway
// conventions"), and the authorizer then sets aws:SourceVpce / aws:SourceVpc and evaluates the
// endpoint's policy (src/cloud/gateway/authorizer.ts). Only calls of the endpoint's service go
// through it: S3 gateway endpoints (com.amazonaws.<region>.s3) are the ones the DLP lab uses.
// Endpoints are found in the account that created them through the gateway, else the caller's.
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { VpcEndpointView } from '../../gateway/service.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { parsePolicyText } from '../iam/policy-store.ts';

interface Described {
  VpcEndpoints?: { VpcEndpointId?: string; VpcId?: string; ServiceName?: string; OwnerId?: string; PolicyDocument?: string; State?: string }[];
}

/** The policy an endpoint has by default: full access. */
const DEFAULT_POLICY = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] });

export class VpcEndpoints {
  /** Which account and Region created each endpoint. */
  private readonly homes = new Map<string, { account: string; region: string }>();

  constructor(private readonly target: Upstream) {}

  dropAccount(account: string): void {
    for (const [id, h] of [...this.homes]) if (h.account === account) this.homes.delete(id);
  }

  /** Notes the endpoints created through the gateway; ResetPolicy (which moto ignores) restores the default policy. */
  extension(): ServiceExtension {
    return {
      service: 'ec2',
      after: async (ctx, res) => {
        const { call, cred } = ctx;
        if (res.status >= 300) return;
        const id = String(call.params['VpcEndpointId'] ?? '');
        if (call.operation === 'ModifyVpcEndpoint' && String(call.params['ResetPolicy'] ?? '').toLowerCase() === 'true' && id) {
          await this.target.json(cred.account, 'ec2', 'ModifyVpcEndpoint', { VpcEndpointId: id, PolicyDocument: DEFAULT_POLICY }, call.region);
        }
        if (call.operation !== 'CreateVpcEndpoint') return;
        const created = /<vpcEndpointId>\s*(vpce-[0-9a-z]+)\s*<\/vpcEndpointId>/i.exec(res.body.toString('utf8'))?.[1];
        if (created) this.homes.set(created, { account: cred.account, region: call.region });
      },
    };
  }

  async find(id: string, callerAccount: string, region: string): Promise<VpcEndpointView | undefined> {
    if (!/^vpce-[0-9a-z]+$/i.test(id)) return undefined;
    // An endpoint is in a VPC of the account that made it: another account's id gives its caller nothing.
    const known = this.homes.get(id);
    if (known && known.account !== callerAccount) return undefined;
    const home = known ?? { account: callerAccount, region };
    let ep: NonNullable<Described['VpcEndpoints']>[number] | undefined;
    try {
      ep = (await this.target.json<Described>(home.account, 'ec2', 'DescribeVpcEndpoints', { VpcEndpointIds: [id] }, home.region)).VpcEndpoints?.[0];
    } catch {
      return undefined;
    }
    if (!ep?.VpcEndpointId || !ep.VpcId || !ep.ServiceName) return undefined;
    let policy;
    try {
      policy = ep.PolicyDocument ? parsePolicyText(ep.PolicyDocument) : undefined;
    } catch {
      // A policy that cannot be read allows nothing (closed, not open).
      policy = { Version: '2012-10-17', Statement: [] };
    }
    return { id: ep.VpcEndpointId, vpcId: ep.VpcId, serviceName: ep.ServiceName, account: home.account, ...(policy ? { policy } : {}) };
  }
}
