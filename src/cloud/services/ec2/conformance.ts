// Where moto 5.2's EC2 differs from AWS's documented behaviour (docs/moto-deviations.md, "EC2"):
//  - AWS's default VPC has an internet gateway attached and a 0.0.0.0/0 route to it in its main route
//    table ("Default VPCs": "Create an internet gateway and connect it to your default VPC; add a route
//    to the main route table that points all traffic (0.0.0.0/0) to the internet gateway"); moto's has
//    neither. Added, as the account, before its first EC2 call in a region.
//  - RunInstances with an image that does not exist fails with InvalidAMIID.NotFound; moto accepts any.
//  - DescribeSecurityGroups with unknown ids or names: moto's message shows a Python set
//    ("The security group '{'sg-1'}' does not exist"); AWS names one group.
import { ApiError } from '../../gateway/api-error.ts';
import type { Upstream } from '../../gateway/upstream.ts';

interface Vpc { VpcId?: string; IsDefault?: boolean }
interface InternetGateway { InternetGatewayId?: string; Attachments?: { VpcId?: string }[] }
interface RouteTable { RouteTableId?: string; Routes?: { DestinationCidrBlock?: string }[] }

/** Per upstream (one lab cloud): account|region whose default VPC was completed (or is being). */
const completed = new WeakMap<Upstream, Map<string, Promise<boolean>>>();

/** Gives the default VPC of account/region its internet gateway and default route, once. True when it changed something. */
export function ensureDefaultVpcInternet(upstream: Upstream, account: string, region: string): Promise<boolean> {
  let done = completed.get(upstream);
  if (!done) completed.set(upstream, (done = new Map()));
  const key = `${account}|${region}`;
  let p = done.get(key);
  if (!p) {
    p = completeDefaultVpc(upstream, account, region).catch(() => false);
    done.set(key, p);
  }
  return p;
}

async function completeDefaultVpc(upstream: Upstream, account: string, region: string): Promise<boolean> {
  const vpcs = await upstream.json<{ Vpcs?: Vpc[] }>(account, 'ec2', 'DescribeVpcs', { Filters: [{ Name: 'is-default', Values: ['true'] }] }, region);
  const vpcId = vpcs.Vpcs?.find((v) => v.IsDefault)?.VpcId;
  if (!vpcId) return false;
  let changed = false;
  const igws = await upstream.json<{ InternetGateways?: InternetGateway[] }>(account, 'ec2', 'DescribeInternetGateways', { Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }, region);
  let igwId = igws.InternetGateways?.find((g) => g.Attachments?.some((a) => a.VpcId === vpcId))?.InternetGatewayId;
  if (!igwId) {
    igwId = (await upstream.json<{ InternetGateway?: InternetGateway }>(account, 'ec2', 'CreateInternetGateway', {}, region)).InternetGateway?.InternetGatewayId;
    if (!igwId) return false;
    await upstream.json(account, 'ec2', 'AttachInternetGateway', { InternetGatewayId: igwId, VpcId: vpcId }, region);
    changed = true;
  }
  const tables = await upstream.json<{ RouteTables?: RouteTable[] }>(account, 'ec2', 'DescribeRouteTables', {
    Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }],
  }, region);
  const main = tables.RouteTables?.[0];
  if (main?.RouteTableId && !main.Routes?.some((r) => r.DestinationCidrBlock === '0.0.0.0/0')) {
    await upstream.json(account, 'ec2', 'CreateRoute', { RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igwId }, region);
    changed = true;
  }
  return changed;
}

/** RunInstances: the image must exist (moto launches from any id). */
export async function checkImageExists(upstream: Upstream, account: string, region: string, imageId: string): Promise<void> {
  const notFound = () => new ApiError(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  if (!/^ami-[0-9a-f]+$/i.test(imageId)) {
    throw new ApiError(400, 'InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  }
  let images: { ImageId?: string }[];
  try {
    images = (await upstream.json<{ Images?: { ImageId?: string }[] }>(account, 'ec2', 'DescribeImages', { ImageIds: [imageId] }, region)).Images ?? [];
  } catch (e) {
    if (/^InvalidAMIID\./.test((e as { name?: string }).name ?? '')) throw notFound();
    return; // the check could not be made: let the target decide
  }
  if (!images.some((i) => i.ImageId === imageId)) throw notFound();
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** DescribeSecurityGroups naming groups that do not exist: AWS's message, naming the first. */
export async function checkSecurityGroupsExist(upstream: Upstream, account: string, region: string, params: Record<string, unknown>): Promise<void> {
  const ids = asList(params['GroupId'] ?? params['GroupIds']);
  const names = asList(params['GroupName'] ?? params['GroupNames']);
  if (!ids.length && !names.length) return;
  let groups: { GroupId?: string; GroupName?: string; VpcId?: string }[];
  try {
    groups = (await upstream.json<{ SecurityGroups?: { GroupId?: string; GroupName?: string; VpcId?: string }[] }>(account, 'ec2', 'DescribeSecurityGroups', {}, region)).SecurityGroups ?? [];
  } catch {
    return;
  }
  const missingId = ids.find((id) => !groups.some((g) => g.GroupId === id));
  if (missingId) throw new ApiError(400, 'InvalidGroup.NotFound', `The security group '${missingId}' does not exist`);
  const missingName = names.find((n) => !groups.some((g) => g.GroupName === n));
  if (missingName) {
    const vpcs = await upstream.json<{ Vpcs?: Vpc[] }>(account, 'ec2', 'DescribeVpcs', { Filters: [{ Name: 'is-default', Values: ['true'] }] }, region).catch(() => ({ Vpcs: [] as Vpc[] }));
    const vpc = vpcs.Vpcs?.[0]?.VpcId;
    throw new ApiError(400, 'InvalidGroup.NotFound', vpc ? `The security group '${missingName}' does not exist in default VPC '${vpc}'` : `The security group '${missingName}' does not exist`);
  }
}
