// The VPC data plane's model: traffic (flows) and the network configuration that judges it (a
// topology snapshot of one account and region). Plain data, JSON-serializable, so tests and
// benchmarks can build topologies by hand and the moto reader (topology.ts) can fill them from the
// EC2 API.
//
// How a conversation is represented (the modelling choice for return traffic):
//
//   A Flow is one conversation as its initiator starts it: the *request* leg goes srcaddr:srcport →
//   dstaddr:dstport with `packets`/`bytes`; its *response* leg goes back dstaddr:dstport →
//   srcaddr:srcport with `response.packets`/`response.bytes` (defaults below). Each leg is seen by
//   every VPC network interface it crosses, and each (interface, leg) becomes its own flow-log
//   record, the way AWS shows an ACCEPT record for a ping and a REJECT record for the reply a
//   network ACL dropped (VPC user guide, "Flow log record examples", security group and network
//   ACL rules). Security groups are stateful: the response of an allowed request passes both
//   security groups whatever their rules. Network ACLs are stateless: the response must pass the
//   responder subnet's *outbound* rules and the initiator subnet's *inbound* rules on the
//   initiator's (ephemeral) source port.
//
//   Default response when `response` is absent: TCP → as many packets as the request, 40 bytes each
//   (ACKs, SYN-ACK, FIN); ICMP/ICMPv6 echo request → an echo reply of the same size; UDP → the same
//   packets and bytes; other protocols and other ICMP types → none. `response: false` means none.

/** IANA protocol numbers the data plane names. */
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, ALL: -1 } as const;

export type Action = 'ACCEPT' | 'REJECT';
export type Direction = 'ingress' | 'egress';
export type Leg = 'request' | 'response';
export type TrafficType = 'ACCEPT' | 'REJECT' | 'ALL';

/** TCP flag bits as flow logs report them (FIN 1, SYN 2, RST 4, SYN-ACK 18). */
export const TCP_FLAGS = { FIN: 1, SYN: 2, RST: 4, ACK: 16, SYN_ACK: 18 } as const;

export interface FlowResponse {
  packets: number;
  bytes: number;
  tcpFlags?: number;
}

export interface Flow {
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  /** IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6...). */
  protocol: number;
  /** Request-leg packets and bytes. */
  packets: number;
  bytes: number;
  /** First and last packet of the conversation, lab-clock milliseconds. */
  start: number;
  end: number;
  /** TCP flags of the request leg (OR-ed). Default: SYN|FIN (3) when the connection completes, SYN (2) otherwise. */
  tcpFlags?: number;
  /** ICMP type and code of the request (protocol 1 or 58); ports are recorded as 0. */
  icmpType?: number;
  icmpCode?: number;
  /** The response leg; see the module comment for the default. */
  response?: FlowResponse | false;
  /**
   * Restricts which observations are kept, for traffic seen at one interface only (a capture on
   * one ENI): only this interface, and when `direction` is set, only that direction.
   */
  interfaceId?: string;
  direction?: Direction;
  /** Disambiguates private addresses when several VPCs of the account use the same ranges. */
  vpcId?: string;
  /** AWS service names for pkt-src-aws-service / pkt-dst-aws-service (e.g. 'S3'). */
  pktSrcAwsService?: string;
  pktDstAwsService?: string;
  /** traffic-path for egress records (1 same VPC, 2 IGW or gateway endpoint, 7 gateway endpoint, 8 IGW...). */
  trafficPath?: number;
  /** Free-form label for scenarios (never rendered). */
  label?: string;
}

/** What one interface saw of one leg of a flow, and what was done to it. */
export interface InterfaceVerdict {
  eni: string;
  action: Action;
  /** One line saying which rule decided, for students and graders. */
  reason: string;
  direction: Direction;
  leg: Leg;
  /** The record's addresses and ports as the interface reports them (its primary private IP on its side). */
  srcaddr: string;
  dstaddr: string;
  srcport: number;
  dstport: number;
  /** Packet-level addresses (pkt-srcaddr / pkt-dstaddr). */
  pktSrcaddr: string;
  pktDstaddr: string;
  packets: number;
  bytes: number;
  tcpFlags: number;
}

export interface FlowVerdict {
  /**
   * ACCEPT: the request reached its destination and the expected response came back.
   * REJECT: something dropped the request or its response.
   * UNOBSERVED: neither end is a network interface of this account and region.
   */
  action: Action | 'UNOBSERVED';
  reason: string;
  /** Per interface touched and leg, in path order. Empty when no interface saw anything. */
  interfaces: InterfaceVerdict[];
}

// ---- topology ----

export interface Vpc {
  id: string;
  cidrs: string[];
  ipv6Cidrs: string[];
  isDefault?: boolean;
}

export interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  ipv6Cidrs: string[];
  availabilityZone?: string;
  availabilityZoneId?: string;
  /** The network ACL associated with the subnet. */
  networkAclId: string;
}

export interface NetworkInterface {
  id: string;
  vpcId: string;
  subnetId: string;
  /** Private IPv4 addresses, the primary first. */
  privateIps: string[];
  ipv6Ips: string[];
  /** Public IPv4 addresses associated with the interface (Elastic IP or auto-assigned). */
  publicIps: string[];
  securityGroupIds: string[];
  instanceId?: string;
  /** Account that owns the interface (account-id field). */
  ownerId: string;
  requesterManaged?: boolean;
  interfaceType?: string;
  /** Attached to a running instance (or in use by a service): can send and receive. */
  active: boolean;
  /** Why not, when inactive: e.g. "instance i-123 is stopped", "the interface is not attached". */
  inactiveReason?: string;
  availabilityZone?: string;
  availabilityZoneId?: string;
  /** The interface's tags merged with its instance's (the instance's win). */
  tags?: Record<string, string>;
}

/** One permission of a security group rule, flattened per peer. */
export interface SecurityGroupRule {
  /** -1 for all, else the IANA number. */
  protocol: number;
  /** tcp/udp: port range. icmp/icmpv6: fromPort is the type and toPort the code (-1 any). Absent: all. */
  fromPort?: number;
  toPort?: number;
  /** Exactly one peer kind. Prefix lists are kept but never match (not modelled). */
  cidr?: string;
  groupId?: string;
  prefixListId?: string;
  description?: string;
}

export interface SecurityGroup {
  id: string;
  vpcId: string;
  name: string;
  ingress: SecurityGroupRule[];
  egress: SecurityGroupRule[];
}

export interface NetworkAclEntry {
  /** 1..32766; 32767 is the API's number for the default `*` rule. */
  ruleNumber: number;
  egress: boolean;
  /** -1 for all, else the IANA number. */
  protocol: number;
  action: 'allow' | 'deny';
  cidr: string;
  portRange?: { from: number; to: number };
  icmp?: { type: number; code: number };
}

export interface NetworkAcl {
  id: string;
  vpcId: string;
  isDefault: boolean;
  subnetIds: string[];
  entries: NetworkAclEntry[];
}

export type FlowLogDestinationType = 'cloud-watch-logs' | 's3' | 'kinesis-data-firehose';

export interface FlowLogConfig {
  id: string;
  /** vpc-…, subnet-… or eni-… */
  resourceId: string;
  trafficType: TrafficType;
  destinationType: FlowLogDestinationType;
  /** CloudWatch Logs group (from LogGroupName or the log-group ARN). */
  logGroupName?: string;
  /** S3 bucket and optional prefix (from the bucket ARN, without the trailing slash). */
  bucket?: string;
  prefix?: string;
  logDestination?: string;
  deliverLogsPermissionArn?: string;
  /** The LogFormat as stored; absent means the default (version 2) format. */
  logFormat?: string;
  /** 60 or 600 seconds. */
  maxAggregationInterval: number;
  destinationOptions?: {
    fileFormat?: 'plain-text' | 'parquet';
    hiveCompatiblePartitions?: boolean;
    perHourPartition?: boolean;
  };
}

/**
 * A snapshot of one account and region. Treat it as immutable once judged: the judge and the
 * flow-log coverage index it per object; to change the network, load or build a new snapshot.
 */
export interface Topology {
  account: string;
  region: string;
  vpcs: Vpc[];
  subnets: Subnet[];
  interfaces: NetworkInterface[];
  securityGroups: SecurityGroup[];
  networkAcls: NetworkAcl[];
  flowLogs: FlowLogConfig[];
}

/** Protocol names the EC2 API uses (`tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a number) to numbers. */
export function protocolNumber(p: string | number | undefined): number {
  if (p === undefined || p === '') return -1;
  if (typeof p === 'number') return p;
  const s = p.toLowerCase();
  if (s === '-1' || s === 'all') return -1;
  if (s === 'tcp') return 6;
  if (s === 'udp') return 17;
  if (s === 'icmp') return 1;
  if (s === 'icmpv6' || s === 'ipv6-icmp') return 58;
  const n = Number(s);
  return Number.isInteger(n) ? n : -1;
}

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };
export const protocolName = (p: number): string => (p === -1 ? 'all' : PROTO_NAMES[p] ?? `protocol ${p}`);
