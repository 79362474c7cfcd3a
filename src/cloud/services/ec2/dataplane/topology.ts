// Reading a topology snapshot (model.ts) from the target emulator's EC2 API, straight from the
// emulator (not through the gateway: nothing is authorized or recorded, like the gateway's own
// reads in upstream.ts). Seven Describe calls per account and region; the data plane caches the
// snapshot and drops it when the gateway reports an EC2 mutation (DataPlane.afterEc2Call).
//
// moto 5.2 quirks handled here (checked against moto_server):
// - Interfaces of stopped and terminated instances stay `in-use`/`attached`: activity comes from
//   the instance state in DescribeInstances.
// - An interface's groups are the union of its own and its instance's groups, so ModifyInstanceAttribute
//   (Groups) or ModifyNetworkInterfaceAttribute (Groups) on a primary interface alone leaves the old
//   groups in place; `syncSecurityGroups` writes the same groups on the other side, as AWS behaves
//   (one set of groups per primary interface).
// - LogFormat is always stored (the default v2 text when absent) and MaxAggregationInterval
//   defaults to 600; DestinationOptions are not stored (the data plane remembers them itself).
import {
  EC2Client,
  DescribeFlowLogsCommand, DescribeInstancesCommand, DescribeNetworkAclsCommand, DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand,
  ModifyInstanceAttributeCommand, ModifyNetworkInterfaceAttributeCommand,
  type FlowLog as Ec2FlowLog, type Instance, type IpPermission, type NetworkAcl as Ec2NetworkAcl,
  type NetworkInterface as Ec2NetworkInterface, type SecurityGroup as Ec2SecurityGroup, type Subnet as Ec2Subnet, type Vpc as Ec2Vpc,
} from '@aws-sdk/client-ec2';
import {
  protocolNumber,
  type FlowLogConfig, type FlowLogDestinationType, type NetworkAcl, type NetworkAclEntry, type NetworkInterface,
  type SecurityGroup, type SecurityGroupRule, type Subnet, type Topology, type TrafficType, type Vpc,
} from './model.ts';

/** Where the data plane gets topologies from. */
export interface TopologySource {
  load(account: string, region: string): Promise<Topology>;
  /** Optional: told about every successful EC2 mutation (after the data plane dropped its cache). */
  afterEc2Call?(account: string, region: string, operation: string, params: Record<string, unknown>): Promise<void>;
  close?(): void;
}

/** Fixed topologies (tests, benchmarks). */
export class StaticTopologySource implements TopologySource {
  private readonly map = new Map<string, Topology>();
  constructor(topologies: Topology[] = []) {
    for (const t of topologies) this.set(t);
  }
  set(t: Topology): void {
    this.map.set(`${t.account}|${t.region}`, t);
  }
  async load(account: string, region: string): Promise<Topology> {
    return this.map.get(`${account}|${region}`) ?? emptyTopology(account, region);
  }
}

export const emptyTopology = (account: string, region: string): Topology => ({
  account, region, vpcs: [], subnets: [], interfaces: [], securityGroups: [], networkAcls: [], flowLogs: [],
});

export interface MotoTopologyOptions {
  /** How the emulator picks the account: moto's x-moto-account-id header, or a 12-digit access key (LocalStack). */
  accountSelection?: 'header' | 'access-key';
  /** Headers every request to the emulator carries (moto's per-run secret). */
  headers?: Record<string, string>;
}

type Paged<T> = { items: T[]; next?: string };

/** Reads topologies from moto (or another EC2-compatible emulator) directly. */
export class MotoTopologySource implements TopologySource {
  private readonly clients = new Map<string, EC2Client>();

  constructor(private readonly url: string, private readonly opts: MotoTopologyOptions = {}) {}

  client(account: string, region: string): EC2Client {
    const key = `${account}|${region}`;
    let c = this.clients.get(key);
    if (!c) {
      const header = (this.opts.accountSelection ?? 'header') === 'header';
      c = new EC2Client({
        endpoint: this.url, region, maxAttempts: 2,
        credentials: { accessKeyId: header ? 'AKIASECLABDATAPLANE0' : account, secretAccessKey: 'dataplane' },
      });
      c.middlewareStack.add(
        (next) => async (args) => {
          const h = (args.request as { headers: Record<string, string> }).headers;
          Object.assign(h, this.opts.headers ?? {});
          if (header) h['x-moto-account-id'] = account;
          return next(args);
        },
        { step: 'build', name: 'seclabSelectAccount' },
      );
      this.clients.set(key, c);
    }
    return c;
  }

  private async all<T>(page: (token?: string) => Promise<Paged<T>>): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const p = await page(token);
      out.push(...p.items);
      if (!p.next || p.next === token) break;
      token = p.next;
    }
    return out;
  }

  async load(account: string, region: string): Promise<Topology> {
    const ec2 = this.client(account, region);
    const [vpcs, subnets, enis, groups, acls, instances, flowLogs] = await Promise.all([
      this.all<Ec2Vpc>(async (t) => { const r = await ec2.send(new DescribeVpcsCommand({ NextToken: t })); return { items: r.Vpcs ?? [], next: r.NextToken }; }),
      this.all<Ec2Subnet>(async (t) => { const r = await ec2.send(new DescribeSubnetsCommand({ NextToken: t })); return { items: r.Subnets ?? [], next: r.NextToken }; }),
      this.all<Ec2NetworkInterface>(async (t) => { const r = await ec2.send(new DescribeNetworkInterfacesCommand({ NextToken: t })); return { items: r.NetworkInterfaces ?? [], next: r.NextToken }; }),
      this.all<Ec2SecurityGroup>(async (t) => { const r = await ec2.send(new DescribeSecurityGroupsCommand({ NextToken: t })); return { items: r.SecurityGroups ?? [], next: r.NextToken }; }),
      this.all<Ec2NetworkAcl>(async (t) => { const r = await ec2.send(new DescribeNetworkAclsCommand({ NextToken: t })); return { items: r.NetworkAcls ?? [], next: r.NextToken }; }),
      this.all<Instance>(async (t) => {
        const r = await ec2.send(new DescribeInstancesCommand({ NextToken: t }));
        return { items: (r.Reservations ?? []).flatMap((x) => x.Instances ?? []), next: r.NextToken };
      }),
      this.all<Ec2FlowLog>(async (t) => { const r = await ec2.send(new DescribeFlowLogsCommand({ NextToken: t })); return { items: r.FlowLogs ?? [], next: r.NextToken }; }),
    ]);
    return toTopology(account, region, { vpcs, subnets, enis, groups, acls, instances, flowLogs });
  }

  /** Keeps moto's two group sets of a primary interface equal, as AWS has only one. */
  async syncSecurityGroups(account: string, region: string, operation: string, params: Record<string, unknown>): Promise<void> {
    const ec2 = this.client(account, region);
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);
    if (operation === 'ModifyInstanceAttribute') {
      const groups = list(params['GroupId']);
      const instanceId = String(params['InstanceId'] ?? '');
      if (!groups.length || !instanceId) return;
      const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const inst = r.Reservations?.[0]?.Instances?.[0];
      const primary = inst?.NetworkInterfaces?.find((n) => (n.Attachment?.DeviceIndex ?? 0) === 0);
      if (primary?.NetworkInterfaceId) {
        await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: primary.NetworkInterfaceId, Groups: groups }));
      }
    } else if (operation === 'ModifyNetworkInterfaceAttribute') {
      const groups = list(params['SecurityGroupId']);
      const eniId = String(params['NetworkInterfaceId'] ?? '');
      if (!groups.length || !eniId) return;
      const r = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
      const att = r.NetworkInterfaces?.[0]?.Attachment;
      if (att?.InstanceId && (att.DeviceIndex ?? 0) === 0) {
        await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: att.InstanceId, Groups: groups }));
      }
    }
  }

  async afterEc2Call(account: string, region: string, operation: string, params: Record<string, unknown>): Promise<void> {
    if (operation === 'ModifyInstanceAttribute' || operation === 'ModifyNetworkInterfaceAttribute') {
      await this.syncSecurityGroups(account, region, operation, params);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

// ---- EC2 API shapes to the model ----

export interface Ec2Descriptions {
  vpcs: Ec2Vpc[];
  subnets: Ec2Subnet[];
  enis: Ec2NetworkInterface[];
  groups: Ec2SecurityGroup[];
  acls: Ec2NetworkAcl[];
  instances: Instance[];
  flowLogs: Ec2FlowLog[];
}

function rulesOf(perms: IpPermission[] | undefined): SecurityGroupRule[] {
  const out: SecurityGroupRule[] = [];
  for (const p of perms ?? []) {
    const protocol = protocolNumber(p.IpProtocol);
    const ports = { ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}), ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}) };
    for (const r of p.IpRanges ?? []) if (r.CidrIp) out.push({ protocol, ...ports, cidr: r.CidrIp, ...(r.Description ? { description: r.Description } : {}) });
    for (const r of p.Ipv6Ranges ?? []) if (r.CidrIpv6) out.push({ protocol, ...ports, cidr: r.CidrIpv6, ...(r.Description ? { description: r.Description } : {}) });
    for (const r of p.UserIdGroupPairs ?? []) if (r.GroupId) out.push({ protocol, ...ports, groupId: r.GroupId });
    for (const r of p.PrefixListIds ?? []) if (r.PrefixListId) out.push({ protocol, ...ports, prefixListId: r.PrefixListId });
  }
  return out;
}

const tagsOf = (tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

/** Parses a flow log's destination: the S3 bucket ARN (with optional folder) or the log group ARN. */
export function parseDestination(fl: { LogDestinationType?: string; LogDestination?: string; LogGroupName?: string }): Pick<FlowLogConfig, 'destinationType' | 'logGroupName' | 'bucket' | 'prefix'> {
  const destinationType = (fl.LogDestinationType ?? 'cloud-watch-logs') as FlowLogDestinationType;
  const dest = fl.LogDestination ?? '';
  if (destinationType === 's3') {
    const path = dest.startsWith('arn:') ? dest.split(':').slice(5).join(':') : dest;
    const slash = path.indexOf('/');
    const bucket = slash < 0 ? path : path.slice(0, slash);
    const prefix = slash < 0 ? '' : path.slice(slash + 1).replace(/\/+$/, '');
    return { destinationType, bucket, ...(prefix ? { prefix } : {}) };
  }
  if (destinationType === 'cloud-watch-logs') {
    let group = fl.LogGroupName;
    const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$/.exec(dest);
    if (!group && m) group = m[1];
    return { destinationType, ...(group ? { logGroupName: group } : {}) };
  }
  return { destinationType };
}

export function toTopology(account: string, region: string, d: Ec2Descriptions): Topology {
  const vpcs: Vpc[] = d.vpcs.map((v) => ({
    id: v.VpcId ?? '',
    cidrs: (v.CidrBlockAssociationSet?.length
      ? v.CidrBlockAssociationSet.filter((a) => !a.CidrBlockState?.State || a.CidrBlockState.State === 'associated').map((a) => a.CidrBlock ?? '')
      : [v.CidrBlock ?? '']).filter(Boolean),
    ipv6Cidrs: (v.Ipv6CidrBlockAssociationSet ?? [])
      .filter((a) => !a.Ipv6CidrBlockState?.State || a.Ipv6CidrBlockState.State === 'associated')
      .map((a) => a.Ipv6CidrBlock ?? '').filter(Boolean),
    isDefault: v.IsDefault === true,
  }));

  const aclOfSubnet = new Map<string, string>();
  const networkAcls: NetworkAcl[] = d.acls.map((a) => {
    const subnetIds = (a.Associations ?? []).map((x) => x.SubnetId ?? '').filter(Boolean);
    for (const s of subnetIds) aclOfSubnet.set(s, a.NetworkAclId ?? '');
    const entries: NetworkAclEntry[] = (a.Entries ?? []).map((e) => ({
      ruleNumber: e.RuleNumber ?? 32767,
      egress: e.Egress === true,
      protocol: protocolNumber(e.Protocol),
      action: e.RuleAction === 'allow' ? 'allow' : 'deny',
      cidr: e.CidrBlock ?? e.Ipv6CidrBlock ?? '0.0.0.0/0',
      ...(e.PortRange && e.PortRange.From !== undefined ? { portRange: { from: e.PortRange.From, to: e.PortRange.To ?? e.PortRange.From } } : {}),
      ...(e.IcmpTypeCode ? { icmp: { type: e.IcmpTypeCode.Type ?? -1, code: e.IcmpTypeCode.Code ?? -1 } } : {}),
    }));
    return { id: a.NetworkAclId ?? '', vpcId: a.VpcId ?? '', isDefault: a.IsDefault === true, subnetIds, entries };
  });
  const defaultAcl = new Map(networkAcls.filter((a) => a.isDefault).map((a) => [a.vpcId, a.id]));

  const subnets: Subnet[] = d.subnets.map((s) => ({
    id: s.SubnetId ?? '',
    vpcId: s.VpcId ?? '',
    cidr: s.CidrBlock ?? '',
    ipv6Cidrs: (s.Ipv6CidrBlockAssociationSet ?? []).map((a) => a.Ipv6CidrBlock ?? '').filter(Boolean),
    ...(s.AvailabilityZone ? { availabilityZone: s.AvailabilityZone } : {}),
    ...(s.AvailabilityZoneId ? { availabilityZoneId: s.AvailabilityZoneId } : {}),
    networkAclId: aclOfSubnet.get(s.SubnetId ?? '') ?? defaultAcl.get(s.VpcId ?? '') ?? '',
  }));
  const subnetById = new Map(subnets.map((s) => [s.id, s]));

  const instances = new Map(d.instances.map((i) => [i.InstanceId ?? '', i]));
  const interfaces: NetworkInterface[] = d.enis.map((n) => {
    const instanceId = n.Attachment?.InstanceId;
    const inst = instanceId ? instances.get(instanceId) : undefined;
    let active = n.Status === 'in-use' && (!n.Attachment || !n.Attachment.Status || n.Attachment.Status === 'attached');
    let inactiveReason: string | undefined = active ? undefined : `the interface is ${n.Status ?? 'not in use'} (not attached)`;
    if (active && instanceId) {
      const state = inst?.State?.Name;
      if (state !== 'running') {
        active = false;
        inactiveReason = inst ? `instance ${instanceId} is ${state ?? 'not running'}` : `instance ${instanceId} no longer exists`;
      }
    }
    const primary = (n.PrivateIpAddresses ?? []).find((p) => p.Primary)?.PrivateIpAddress ?? n.PrivateIpAddress;
    const privateIps = [primary, ...(n.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress)]
      .filter((x, i, a): x is string => !!x && a.indexOf(x) === i);
    const publicIps = [n.Association?.PublicIp, ...(n.PrivateIpAddresses ?? []).map((p) => p.Association?.PublicIp)]
      .filter((x, i, a): x is string => !!x && a.indexOf(x) === i);
    const subnet = subnetById.get(n.SubnetId ?? '');
    return {
      id: n.NetworkInterfaceId ?? '',
      vpcId: n.VpcId ?? '',
      subnetId: n.SubnetId ?? '',
      privateIps,
      ipv6Ips: (n.Ipv6Addresses ?? []).map((a) => a.Ipv6Address ?? '').filter(Boolean),
      publicIps,
      securityGroupIds: (n.Groups ?? []).map((g) => g.GroupId ?? '').filter(Boolean),
      ...(instanceId ? { instanceId } : {}),
      ownerId: n.OwnerId ?? account,
      requesterManaged: n.RequesterManaged === true,
      ...(n.InterfaceType ? { interfaceType: n.InterfaceType } : {}),
      active,
      ...(inactiveReason ? { inactiveReason } : {}),
      ...(n.AvailabilityZone ? { availabilityZone: n.AvailabilityZone } : {}),
      ...(subnet?.availabilityZoneId ? { availabilityZoneId: subnet.availabilityZoneId } : {}),
      tags: { ...tagsOf(n.TagSet), ...tagsOf(inst?.Tags) },
    };
  });

  const securityGroups: SecurityGroup[] = d.groups.map((g) => ({
    id: g.GroupId ?? '',
    vpcId: g.VpcId ?? '',
    name: g.GroupName ?? '',
    ingress: rulesOf(g.IpPermissions),
    egress: rulesOf(g.IpPermissionsEgress),
  }));

  const flowLogs: FlowLogConfig[] = d.flowLogs
    .filter((f) => !f.FlowLogStatus || f.FlowLogStatus === 'ACTIVE')
    .map((f) => ({
      id: f.FlowLogId ?? '',
      resourceId: f.ResourceId ?? '',
      trafficType: (f.TrafficType ?? 'ALL') as TrafficType,
      ...parseDestination(f),
      ...(f.LogDestination ? { logDestination: f.LogDestination } : {}),
      ...(f.DeliverLogsPermissionArn ? { deliverLogsPermissionArn: f.DeliverLogsPermissionArn } : {}),
      ...(f.LogFormat ? { logFormat: f.LogFormat } : {}),
      maxAggregationInterval: f.MaxAggregationInterval === 60 ? 60 : 600,
      ...(f.DestinationOptions
        ? {
            destinationOptions: {
              ...(f.DestinationOptions.FileFormat ? { fileFormat: f.DestinationOptions.FileFormat } : {}),
              ...(f.DestinationOptions.HiveCompatiblePartitions !== undefined ? { hiveCompatiblePartitions: f.DestinationOptions.HiveCompatiblePartitions } : {}),
              ...(f.DestinationOptions.PerHourPartition !== undefined ? { perHourPartition: f.DestinationOptions.PerHourPartition } : {}),
            },
          }
        : {}),
    }));

  return { account, region, vpcs, subnets, interfaces, securityGroups, networkAcls, flowLogs };
}
