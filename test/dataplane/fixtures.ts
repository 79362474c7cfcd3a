// A three-tier VPC built by hand (no emulator): web, app and db subnets with their own network
// ACLs and security groups, the way the lab `network` environment lays it out.
import type { FlowLogConfig, NetworkAclEntry, NetworkInterface, Topology } from '../../src/cloud/services/ec2/dataplane/model.ts';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const ROGUE = '203.0.113.66';
export const USER = '198.51.100.7';

const allow = (ruleNumber: number, egress: boolean, cidr: string, protocol = -1, portRange?: [number, number]): NetworkAclEntry => ({
  ruleNumber, egress, protocol, action: 'allow', cidr, ...(portRange ? { portRange: { from: portRange[0], to: portRange[1] } } : {}),
});
const deny = (ruleNumber: number, egress: boolean, cidr: string, protocol = -1, portRange?: [number, number]): NetworkAclEntry => ({
  ...allow(ruleNumber, egress, cidr, protocol, portRange), action: 'deny',
});

const iface = (id: string, subnetId: string, ip: string, sgs: string[], extra: Partial<NetworkInterface> = {}): NetworkInterface => ({
  id, vpcId: 'vpc-1', subnetId, privateIps: [ip], ipv6Ips: [], publicIps: [], securityGroupIds: sgs,
  instanceId: `i-${id.slice(4)}`, ownerId: ACCOUNT, active: true, availabilityZone: 'us-east-1a', availabilityZoneId: 'use1-az1', ...extra,
});

/** web 10.0.1.0/24 (sg-web: 443 from anywhere, 22 from 10.0.0.0/16), app 10.0.2.0/24 (sg-app: 8080 from sg-web), db 10.0.3.0/24 (sg-db: 5432 from sg-app). */
export function threeTier(flowLogs: FlowLogConfig[] = []): Topology {
  return {
    account: ACCOUNT, region: REGION,
    vpcs: [{ id: 'vpc-1', cidrs: ['10.0.0.0/16'], ipv6Cidrs: ['2600:1f18:1::/56'] }],
    subnets: [
      { id: 'subnet-web', vpcId: 'vpc-1', cidr: '10.0.1.0/24', ipv6Cidrs: [], availabilityZone: 'us-east-1a', availabilityZoneId: 'use1-az1', networkAclId: 'acl-web' },
      { id: 'subnet-app', vpcId: 'vpc-1', cidr: '10.0.2.0/24', ipv6Cidrs: [], availabilityZone: 'us-east-1a', availabilityZoneId: 'use1-az1', networkAclId: 'acl-app' },
      { id: 'subnet-db', vpcId: 'vpc-1', cidr: '10.0.3.0/24', ipv6Cidrs: [], availabilityZone: 'us-east-1a', availabilityZoneId: 'use1-az1', networkAclId: 'acl-db' },
    ],
    interfaces: [
      iface('eni-web1', 'subnet-web', '10.0.1.10', ['sg-web'], { publicIps: ['54.1.2.3'], ipv6Ips: ['2600:1f18:1:1::10'], tags: { Tier: 'web' } }),
      iface('eni-web2', 'subnet-web', '10.0.1.11', ['sg-web'], { tags: { Tier: 'web' } }),
      iface('eni-app1', 'subnet-app', '10.0.2.10', ['sg-app'], { tags: { Tier: 'app' } }),
      iface('eni-db1', 'subnet-db', '10.0.3.10', ['sg-db'], { tags: { Tier: 'db' } }),
      iface('eni-old', 'subnet-app', '10.0.2.99', ['sg-app'], { active: false, inactiveReason: 'instance i-old is stopped' }),
    ],
    securityGroups: [
      {
        id: 'sg-web', vpcId: 'vpc-1', name: 'web',
        ingress: [
          { protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' },
          { protocol: 6, fromPort: 443, toPort: 443, cidr: '::/0' },
          { protocol: 6, fromPort: 22, toPort: 22, cidr: '10.0.0.0/16' },
          { protocol: 1, fromPort: 8, toPort: -1, cidr: '0.0.0.0/0' },
        ],
        egress: [{ protocol: -1, cidr: '0.0.0.0/0' }, { protocol: -1, cidr: '::/0' }],
      },
      {
        id: 'sg-app', vpcId: 'vpc-1', name: 'app',
        ingress: [{ protocol: 6, fromPort: 8080, toPort: 8080, groupId: 'sg-web' }],
        egress: [{ protocol: -1, cidr: '0.0.0.0/0' }],
      },
      {
        id: 'sg-db', vpcId: 'vpc-1', name: 'db',
        ingress: [{ protocol: 6, fromPort: 5432, toPort: 5432, groupId: 'sg-app' }],
        egress: [{ protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' }],
      },
    ],
    networkAcls: [
      {
        id: 'acl-web', vpcId: 'vpc-1', isDefault: false, subnetIds: ['subnet-web'],
        entries: [
          allow(100, false, '0.0.0.0/0', 6, [443, 443]),
          allow(105, false, '::/0', 6, [443, 443]),
          allow(110, false, '10.0.0.0/16', 6, [22, 22]),
          allow(120, false, '0.0.0.0/0', 6, [1024, 65535]),
          allow(130, false, '0.0.0.0/0', 1),
          allow(100, true, '0.0.0.0/0'),
          allow(101, true, '::/0'),
        ],
      },
      {
        id: 'acl-app', vpcId: 'vpc-1', isDefault: false, subnetIds: ['subnet-app'],
        entries: [
          allow(100, false, '10.0.0.0/16'),
          allow(200, false, '0.0.0.0/0', 6, [1024, 65535]),
          allow(100, true, '0.0.0.0/0'),
        ],
      },
      {
        id: 'acl-db', vpcId: 'vpc-1', isDefault: false, subnetIds: ['subnet-db'],
        entries: [
          allow(100, false, '10.0.2.0/24', 6, [5432, 5432]),
          allow(110, false, '0.0.0.0/0', 6, [32768, 65535]),
          // Responses only back to the app subnet's ephemeral ports; nothing else out.
          allow(100, true, '10.0.2.0/24', 6, [32768, 65535]),
          allow(110, true, '0.0.0.0/0', 6, [443, 443]),
        ],
      },
      { id: 'acl-default', vpcId: 'vpc-1', isDefault: true, subnetIds: [], entries: [allow(100, false, '0.0.0.0/0'), allow(100, true, '0.0.0.0/0')] },
    ],
    flowLogs,
  };
}

export const flowLog = (over: Partial<FlowLogConfig> = {}): FlowLogConfig => ({
  id: 'fl-vpc', resourceId: 'vpc-1', trafficType: 'ALL', destinationType: 'cloud-watch-logs', logGroupName: 'vpc-flow-logs',
  maxAggregationInterval: 60, ...over,
});

export { allow as aclAllow, deny as aclDeny };
