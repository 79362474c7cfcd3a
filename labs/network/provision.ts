// Builds Northwind's network as the student finds it: a production VPC holding customer data (web,
// app and database subnets, each with its network ACL, security groups per tier, a bastion open to
// SSH from anywhere for the contractors, an internet gateway and a NAT gateway), a sandbox VPC for
// experiments, and no monitoring at all: no flow logs, no alarms, nobody notified.
import {
  EC2Client, CreateVpcCommand, CreateSubnetCommand, CreateInternetGatewayCommand, AttachInternetGatewayCommand,
  CreateRouteTableCommand, CreateRouteCommand, AssociateRouteTableCommand, ModifySubnetAttributeCommand,
  CreateNetworkAclCommand, CreateNetworkAclEntryCommand, DescribeNetworkAclsCommand, ReplaceNetworkAclAssociationCommand,
  CreateSecurityGroupCommand, AuthorizeSecurityGroupIngressCommand, RunInstancesCommand, AllocateAddressCommand,
  CreateNatGatewayCommand, type IpPermission, type ResourceType, type Tag, type TagSpecification,
} from '@aws-sdk/client-ec2';
import type { LabSession } from '../../src/engine/session.ts';
import {
  ADMINS, COMPANY, CONTRACTORS, FIRST_ALLOW_RULE, INSTANCES, PORTS, SANDBOX_CIDR, SENSITIVE_CIDR,
  type LabInstance, type NetworkLabEnv, type Subnet,
} from './company.ts';

const tags = (resource: ResourceType, t: Record<string, string>): TagSpecification[] => [{ ResourceType: resource, Tags: Object.entries(t).map(([Key, Value]): Tag => ({ Key, Value })) }];

export async function provisionNetwork(session: LabSession): Promise<NetworkLabEnv & Record<string, unknown>> {
  const ec2 = session.client(EC2Client);
  const region = session.cloud.region;

  // Independent calls go out together: provisioning is part of every graded run.
  // ---- the two VPCs ----
  const vpc = async (cidr: string, name: string, sensitivity: string) => (await ec2.send(new CreateVpcCommand({
    CidrBlock: cidr, TagSpecifications: tags('vpc', { Name: name, DataClassification: sensitivity, Company: COMPANY }),
  }))).Vpc!.VpcId!;
  const [prodVpc, sandboxVpc] = await Promise.all([vpc(SENSITIVE_CIDR, 'northwind-prod', 'confidential'), vpc(SANDBOX_CIDR, 'northwind-sandbox', 'public')]);

  const subnet = async (vpcId: string, cidr: string, name: string, isPublic: boolean) => {
    const id = (await ec2.send(new CreateSubnetCommand({
      VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: `${region}a`, TagSpecifications: tags('subnet', { Name: name }),
    }))).Subnet!.SubnetId!;
    if (isPublic) await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: id, MapPublicIpOnLaunch: { Value: true } }));
    return id;
  };
  const [web_, app_, db_, sandbox_] = await Promise.all([
    subnet(prodVpc, '10.20.1.0/24', 'prod-web', true), subnet(prodVpc, '10.20.2.0/24', 'prod-app', false),
    subnet(prodVpc, '10.20.3.0/24', 'prod-db', false), subnet(sandboxVpc, '10.99.1.0/24', 'sandbox', true),
  ]);
  const subnetIds = { web: web_, app: app_, db: db_, sandbox: sandbox_ };

  // ---- routes: the web subnet is public, app and db leave through a NAT gateway ----
  const publicRoutes = async (vpcId: string, publicSubnet: string) => {
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const rt = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: publicSubnet }));
  };
  const privateRoutes = async () => {
    const eip = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetIds.web, AllocationId: eip }))).NatGateway!.NatGatewayId!;
    const rt = (await ec2.send(new CreateRouteTableCommand({ VpcId: prodVpc }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
    await Promise.all([subnetIds.app, subnetIds.db].map((id) => ec2.send(new AssociateRouteTableCommand({ RouteTableId: rt, SubnetId: id }))));
  };

  // ---- network ACLs of the production subnets: allow rules from 100 up ----
  const networkAcls = async () => {
    const acl = async (name: string) => (await ec2.send(new CreateNetworkAclCommand({ VpcId: prodVpc, TagSpecifications: tags('network-acl', { Name: name }) }))).NetworkAcl!.NetworkAclId!;
    const [web, app, db] = await Promise.all([acl('prod-web'), acl('prod-app'), acl('prod-db')]);
    const entry = (id: string, n: number, egress: boolean, cidr: string, protocol = '-1', ports?: [number, number]) =>
      ec2.send(new CreateNetworkAclEntryCommand({
        NetworkAclId: id, RuleNumber: n, Egress: egress, CidrBlock: cidr, RuleAction: 'allow', Protocol: protocol,
        ...(ports ? { PortRange: { From: ports[0], To: ports[1] } } : {}),
      }));
    const R = FIRST_ALLOW_RULE;
    await Promise.all([
      // web: HTTPS for customers, SSH for the contractors' bastion, return traffic on ephemeral ports.
      entry(web, R, false, '0.0.0.0/0', '6', [PORTS.web, PORTS.web]),
      entry(web, R + 10, false, '0.0.0.0/0', '6', [PORTS.ssh, PORTS.ssh]),
      entry(web, R + 20, false, '0.0.0.0/0', '6', [1024, 65535]),
      entry(web, R, true, '0.0.0.0/0'),
      // app: anything from inside the VPC, return traffic from outside (updates); out: anywhere.
      entry(app, R, false, SENSITIVE_CIDR),
      entry(app, R + 10, false, '0.0.0.0/0', '6', [1024, 65535]),
      entry(app, R, true, '0.0.0.0/0'),
      // db: PostgreSQL from the app subnet, return traffic; out: answers to the app subnet, HTTPS (backups, updates).
      entry(db, R, false, '10.20.2.0/24', '6', [PORTS.db, PORTS.db]),
      entry(db, R + 10, false, '0.0.0.0/0', '6', [1024, 65535]),
      entry(db, R, true, '10.20.2.0/24', '6', [1024, 65535]),
      entry(db, R + 10, true, '0.0.0.0/0', '6', [443, 443]),
    ]);
    const described = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [prodVpc, sandboxVpc] }] }));
    const ids = { web, app, db };
    await Promise.all((['web', 'app', 'db'] as const).map((tier) => {
      const assoc = described.NetworkAcls!.flatMap((a) => a.Associations ?? []).find((a) => a.SubnetId === subnetIds[tier]);
      if (!assoc) throw new Error(`subnet ${subnetIds[tier]} has no network ACL association`);
      return ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc.NetworkAclAssociationId!, NetworkAclId: ids[tier] }));
    }));
    const sandbox = described.NetworkAcls!.find((a) => a.VpcId === sandboxVpc && a.IsDefault)!.NetworkAclId!;
    return { ...ids, sandbox };
  };

  // ---- security groups ----
  const group = async (vpcId: string, name: string, description: string, ingress: IpPermission[]) => {
    const id = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: description, TagSpecifications: tags('security-group', { Name: name }) }))).GroupId!;
    if (ingress.length) await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: ingress }));
    return id;
  };
  const tcp = (port: number, peer: { cidr?: string; group?: string }, description: string): IpPermission => ({
    IpProtocol: 'tcp', FromPort: port, ToPort: port,
    ...(peer.cidr ? { IpRanges: [{ CidrIp: peer.cidr, Description: description }] } : { UserIdGroupPairs: [{ GroupId: peer.group, Description: description }] }),
  });
  const securityGroups = async () => {
    const [web, bastion, sandbox] = await Promise.all([
      group(prodVpc, 'prod-web', 'web servers: HTTPS from customers', [tcp(PORTS.web, { cidr: '0.0.0.0/0' }, 'customers')]),
      group(prodVpc, 'prod-bastion', 'bastion: SSH from anywhere for the contractors', [tcp(PORTS.ssh, { cidr: '0.0.0.0/0' }, 'contractors (from home, from anywhere)')]),
      group(sandboxVpc, 'sandbox', 'developer experiments', [tcp(PORTS.web, { cidr: '0.0.0.0/0' }, 'anyone'), tcp(PORTS.ssh, { cidr: '203.0.113.0/24' }, 'office')]),
    ]);
    const app = await group(prodVpc, 'prod-app', 'application servers', [tcp(PORTS.app, { group: web }, 'web tier'), tcp(PORTS.ssh, { group: bastion }, 'admins through the bastion')]);
    const db = await group(prodVpc, 'prod-db', 'customer database', [tcp(PORTS.db, { group: app }, 'app tier')]);
    return { web, bastion, app, db, sandbox };
  };

  const [, , acls, sgOf] = await Promise.all([
    Promise.all([publicRoutes(prodVpc, subnetIds.web), publicRoutes(sandboxVpc, subnetIds.sandbox)]),
    privateRoutes(),
    networkAcls(),
    securityGroups(),
  ]);

  // ---- instances ----
  const instances: LabInstance[] = await Promise.all(INSTANCES.map(async (spec) => {
    const r = await ec2.send(new RunInstancesCommand({
      ImageId: 'ami-12c6146b', InstanceType: spec.tier === 'db' ? 'r6i.large' : 't3.medium', MinCount: 1, MaxCount: 1,
      SubnetId: subnetIds[spec.subnet], PrivateIpAddress: spec.privateIp, SecurityGroupIds: [sgOf[spec.tier]],
      MetadataOptions: { HttpTokens: 'required' },
      TagSpecifications: tags('instance', { Name: spec.name, Tier: spec.tier }),
    }));
    const i = r.Instances![0]!;
    return { name: spec.name, id: i.InstanceId!, tier: spec.tier, vpc: spec.vpc, privateIp: spec.privateIp, ...(spec.publicIp && i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}) };
  }));

  const sub = (tier: keyof typeof subnetIds, cidr: string, acl: string): Subnet => ({ id: subnetIds[tier], cidr, networkAclId: acl });
  const env: NetworkLabEnv = {
    company: COMPANY,
    region,
    vpcs: {
      sensitive: { id: prodVpc, name: 'northwind-prod', cidr: SENSITIVE_CIDR, holds: 'the customer database and the applications that use it' },
      sandbox: { id: sandboxVpc, name: 'northwind-sandbox', cidr: SANDBOX_CIDR, holds: 'developer experiments, no customer data' },
    },
    subnets: { web: sub('web', '10.20.1.0/24', acls.web), app: sub('app', '10.20.2.0/24', acls.app), db: sub('db', '10.20.3.0/24', acls.db), sandbox: sub('sandbox', '10.99.1.0/24', acls.sandbox) },
    securityGroups: sgOf,
    instances,
    firstAllowRule: FIRST_ALLOW_RULE,
    admins: ADMINS,
    contractors: CONTRACTORS,
    ports: PORTS,
  };
  // The administrators read their email: they confirm the SNS subscription requests sent to them.
  session.gateway.service('sns').outbox.addReader(session.accountId, ADMINS.email);
  return { ...env };
}
