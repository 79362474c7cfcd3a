// EC2 account-level settings that moto 5.2 lacks (its EC2 answers NotImplemented), answered as AWS
// does for a new account (docs/moto-deviations.md, "EC2"):
//  - Block public access for AMIs: "New accounts | Enabled" (EC2 User Guide, "Understand block public
//    access for AMIs", Default settings), per Region: GetImageBlockPublicAccessState answers
//    block-new-sharing until DisableImageBlockPublicAccess; while it is enabled, making an AMI public
//    (ModifyImageAttribute launchPermission add group all) is refused. Enable/Disable answer at once
//    (AWS: "can take up to 10 minutes").
//  - Block public access for snapshots: disabled by default ("unblocked"). Only the state is answered;
//    Enable/DisableSnapshotBlockPublicAccess stay unimplemented (moto), so the state never changes and
//    public snapshot sharing behaves as "unblocked" says.
//  - Instance metadata defaults: none set for a new account (GetInstanceMetadataDefaults: an empty
//    accountLevel); ModifyInstanceMetadataDefaults stays unimplemented, so none are ever set.
//  - Client VPN: moto has no Client VPN endpoints (CreateClientVpnEndpoint is unimplemented), so
//    DescribeClientVpnEndpoints lists none; naming one is InvalidClientVpnEndpointId.NotFound.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../gateway/api-error.ts';
import { xmlEscape, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

function ec2Result(operation: string, inner: string, requestId: string): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${NS}"><requestId>${xmlEscape(requestId)}</requestId>${inner}</${operation}Response>`,
  };
}

const truthy = (v: unknown): boolean => v === true || String(v).toLowerCase() === 'true';

/** Values of a query list parameter (`Name.1`, `Name.2`... decoded into a list), or of a lone value. */
function list(v: unknown): unknown[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : typeof v === 'object' && v !== null ? Object.values(v) : [v];
}

/** Whether a ModifyImageAttribute call adds the launch permission of everyone (group all). */
export function makesImagePublic(params: Record<string, unknown>): boolean {
  const lp = params['LaunchPermission'];
  const add = lp && typeof lp === 'object' ? (lp as Record<string, unknown>)['Add'] : undefined;
  if (list(add).some((p) => p && typeof p === 'object' && String((p as Record<string, unknown>)['Group'] ?? '').toLowerCase() === 'all')) return true;
  // The older form: Attribute=launchPermission, OperationType=add, UserGroup.N=all.
  return String(params['OperationType'] ?? '').toLowerCase() === 'add' && list(params['UserGroup']).some((g) => String(g).toLowerCase() === 'all');
}

export class Ec2AccountSettings {
  /** account|region where block public access for AMIs was disabled (enabled is the default). */
  private readonly imageBpaDisabled = new Set<string>();

  imageBlockPublicAccess(account: string, region: string): 'block-new-sharing' | 'unblocked' {
    return this.imageBpaDisabled.has(`${account}|${region}`) ? 'unblocked' : 'block-new-sharing';
  }

  dropAccount(account: string): void {
    for (const k of [...this.imageBpaDisabled]) if (k.startsWith(`${account}|`)) this.imageBpaDisabled.delete(k);
  }

  extension(): ServiceExtension {
    return {
      service: 'ec2',
      serve: (ctx) => this.serve(ctx),
      before: async ({ cred, call }) => {
        if (call.operation === 'ModifyImageAttribute' && makesImagePublic(call.params) && this.imageBlockPublicAccess(cred.account, call.region) === 'block-new-sharing') {
          throw new ApiError(400, 'OperationNotPermitted',
            "You can't publicly share this image because block public access for AMIs is enabled for this account. To publicly share the image, you must call the DisableImageBlockPublicAccess API.");
        }
      },
    };
  }

  private async serve(ctx: CallContext): Promise<Reply | undefined> {
    const { call, cred, requestId } = ctx;
    const op = call.operation;
    const p = call.params;
    const key = `${cred.account}|${call.region}`;
    const answer = (inner: string): Reply => {
      if (truthy(p['DryRun'])) throw new ApiError(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
      return ec2Result(op, inner, requestId || randomUUID());
    };
    switch (op) {
      case 'GetImageBlockPublicAccessState':
        return answer(`<imageBlockPublicAccessState>${this.imageBlockPublicAccess(cred.account, call.region)}</imageBlockPublicAccessState><managedBy>account</managedBy>`);
      case 'EnableImageBlockPublicAccess': {
        const state = p['ImageBlockPublicAccessState'];
        if (state !== 'block-new-sharing') {
          throw new ApiError(400, 'InvalidParameterValue', `Value (${String(state ?? '')}) for parameter ImageBlockPublicAccessState is invalid. Valid values: block-new-sharing`);
        }
        const reply = answer('<imageBlockPublicAccessState>block-new-sharing</imageBlockPublicAccessState>');
        this.imageBpaDisabled.delete(key);
        return reply;
      }
      case 'DisableImageBlockPublicAccess': {
        const reply = answer('<imageBlockPublicAccessState>unblocked</imageBlockPublicAccessState>');
        this.imageBpaDisabled.add(key);
        return reply;
      }
      case 'GetSnapshotBlockPublicAccessState':
        return answer('<state>unblocked</state><managedBy>account</managedBy>');
      case 'GetInstanceMetadataDefaults':
        return answer('<accountLevel/>');
      case 'DescribeClientVpnEndpoints': {
        const ids = list(p['ClientVpnEndpointId']).map(String);
        if (ids.length) {
          throw new ApiError(400, 'InvalidClientVpnEndpointId.NotFound', `Endpoint ${ids[0]} does not exist`);
        }
        return answer('<clientVpnEndpoint/>');
      }
      default:
        return undefined;
    }
  }
}
