// CloudTrail in the gateway: LookupEvents over the gateway's records, the digest signing keys, and
// the trail calls that start and stop delivery. Also the trail rules moto 5.2 gets wrong (see
// docs/moto-deviations.md, "CloudTrail"): CreateTrail of an existing name, Start/StopLogging,
// DeleteTrail of an unknown trail or by ARN, DescribeTrails' trailNameList.
import { jsonResult, type CallContext, type ServiceExtension } from '../../gateway/extension.ts';
import { ApiError } from '../../gateway/api-error.ts';
import { lookupEvents } from './recorder.ts';
import type { CloudTrailService } from './index.ts';

interface TrailInfo {
  Name?: string;
  TrailARN?: string;
  HomeRegion?: string;
}

const TRAIL_ARN = /^arn:aws[\w-]*:cloudtrail:([^:]+):(\d{12}):trail\/(.+)$/;

/** The trails of the caller's account that the emulator holds in `region` (shadow trails optional). */
async function trailsIn(cloudtrail: CloudTrailService, ctx: CallContext, region: string, shadow: boolean): Promise<TrailInfo[]> {
  const out = await cloudtrail.target.json<{ trailList?: TrailInfo[] }>(ctx.cred.account, 'cloudtrail', 'DescribeTrails', { includeShadowTrails: shadow }, region);
  return out.trailList ?? [];
}

/** A trail by name (in the request's region) or by ARN (in the ARN's region), as AWS resolves them. */
async function findTrail(cloudtrail: CloudTrailService, ctx: CallContext, nameOrArn: string): Promise<TrailInfo | undefined> {
  const arn = TRAIL_ARN.exec(nameOrArn);
  if (arn) {
    if (arn[2] !== ctx.cred.account) return undefined;
    return (await trailsIn(cloudtrail, ctx, arn[1]!, false)).find((t) => t.TrailARN === nameOrArn);
  }
  return (await trailsIn(cloudtrail, ctx, ctx.call.region, false)).find((t) => t.Name === nameOrArn);
}

/** AWS's TrailNotFoundException: "Unknown trail: <trail ARN> for the user: <account>". */
function trailNotFound(ctx: CallContext, nameOrArn: string): ApiError {
  const arn = TRAIL_ARN.test(nameOrArn) ? nameOrArn : `arn:aws:cloudtrail:${ctx.call.region}:${ctx.cred.account}:trail/${nameOrArn}`;
  return new ApiError(400, 'TrailNotFoundException', `Unknown trail: ${arn} for the user: ${ctx.cred.account}`);
}

const trailParam = (ctx: CallContext): string => String(ctx.call.params['Name'] ?? '');

export function cloudtrailExtension(cloudtrail: CloudTrailService): ServiceExtension {
  return {
    service: 'cloudtrail',

    async serve(ctx) {
      const { cred, call, requestId } = ctx;
      if (call.operation === 'LookupEvents') return jsonResult(lookupEvents(cloudtrail.trail.all(cred.account), call.params as never), requestId);
      if (call.operation === 'ListPublicKeys') return jsonResult({ PublicKeyList: cloudtrail.delivery.publicKeys(call.region) }, requestId);
      if (call.operation === 'DescribeTrails') {
        // moto ignores trailNameList. AWS: names match trails of the current region and account, ARNs
        // any trail of the account; names that match nothing are left out (no error).
        const names = call.params['trailNameList'];
        if (!Array.isArray(names) || names.length === 0) return undefined;
        const shadow = call.params['includeShadowTrails'] !== false;
        const here = await trailsIn(cloudtrail, ctx, call.region, shadow);
        const found: TrailInfo[] = [];
        for (const n of names.map(String)) {
          const t = TRAIL_ARN.test(n) ? here.find((x) => x.TrailARN === n) ?? (await findTrail(cloudtrail, ctx, n)) : here.find((x) => x.Name === n && x.HomeRegion === call.region);
          if (t && !found.some((f) => f.TrailARN === t.TrailARN)) found.push(t);
        }
        return jsonResult({ trailList: found }, requestId);
      }
      if (call.operation === 'StartLogging' || call.operation === 'StopLogging' || call.operation === 'DeleteTrail') {
        // moto 5.2 looks these up by name only: an ARN, or an unknown name, is a KeyError (HTML 500)
        // for Start/StopLogging and a silent no-op for DeleteTrail. AWS takes either and refuses unknown trails.
        const name = trailParam(ctx);
        const trail = await findTrail(cloudtrail, ctx, name);
        if (!trail?.Name) throw trailNotFound(ctx, name);
        const region = trail.HomeRegion ?? call.region;
        await cloudtrail.target.json(cred.account, 'cloudtrail', call.operation, { Name: trail.Name }, region);
        cloudtrail.delivery.noteCall(cred.account, region, call.operation, { Name: trail.Name }, cloudtrail.clock.nowMs());
        return jsonResult({}, requestId);
      }
      return undefined;
    },

    async before(ctx) {
      const { call } = ctx;
      if (call.operation === 'CreateTrail') {
        const name = trailParam(ctx);
        if (name && (await findTrail(cloudtrail, ctx, name))) {
          throw new ApiError(400, 'TrailAlreadyExistsException', `Trail ${name} already exists for customer: ${ctx.cred.account}`);
        }
      }
    },

    async after({ cred, call }) {
      if (['CreateTrail', 'StartLogging', 'StopLogging', 'DeleteTrail'].includes(call.operation)) {
        cloudtrail.delivery.noteCall(cred.account, call.region, call.operation, call.params, cloudtrail.clock.nowMs());
      }
    },
  };
}
