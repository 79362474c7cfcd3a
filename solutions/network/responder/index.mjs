// Northwind's network responder (reference). Invoked by the security-alerts SNS topic when a flow-log
// alarm goes to ALARM. It reads the flow logs of the minutes before the alarm and:
// - for rejected-traffic alarms (SSH brute force, scans): denies every outside address with many
//   refused connections, in each network ACL of the production VPC, with a rule numbered below the
//   allow rules (network ACLs stop at the first matching rule);
// - for the outbound-bytes alarm: isolates the instance that sent the most to outside addresses by
//   swapping its security groups for the quarantine group (no rules: nothing in, nothing out).
// Configuration comes from the function's environment (set by solution.ts).
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  EC2Client, CreateNetworkAclEntryCommand, DescribeNetworkAclsCommand, DescribeNetworkInterfacesCommand, ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';

const logs = new CloudWatchLogsClient({});
const ec2 = new EC2Client({});

const GROUP = process.env.FLOW_LOG_GROUP;
const VPC_CIDR = process.env.VPC_CIDR;
const NETWORK_ACLS = (process.env.NETWORK_ACL_IDS ?? '').split(',').filter(Boolean);
const QUARANTINE_GROUP = process.env.QUARANTINE_GROUP_ID;
const OUTBOUND_METRIC = process.env.OUTBOUND_METRIC ?? 'OutboundBytes';
const FIRST_ALLOW_RULE = Number(process.env.FIRST_ALLOW_RULE ?? 100);
const DENY_RULE_BASE = Number(process.env.DENY_RULE_BASE ?? 10);
const REJECTS_TO_BLOCK = Number(process.env.REJECTS_TO_BLOCK ?? 10);
const BYTES_TO_ISOLATE = Number(process.env.BYTES_TO_ISOLATE ?? 50_000_000);
const LOOKBACK_MS = 5 * 60_000;

// ---- addresses ----

const toInt = (ip) => ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
function inCidr(ip, cidr) {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const [base, bits] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}
const outside = (ip) => !inCidr(ip, VPC_CIDR);

// ---- flow-log records (default format, version 2) ----

function parse(message) {
  const f = message.split(' ');
  if (f.length < 14 || f[13] !== 'OK') return undefined;
  return { eni: f[2], src: f[3], dst: f[4], dstport: Number(f[6]), bytes: Number(f[9]), action: f[12] };
}

async function records(term, since) {
  const out = [];
  let nextToken;
  for (let page = 0; page < 50; page++) {
    const r = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: term, startTime: since, nextToken }));
    for (const e of r.events ?? []) {
      const rec = parse(e.message ?? '');
      if (rec) out.push(rec);
    }
    if (!r.nextToken || r.nextToken === nextToken) break;
    nextToken = r.nextToken;
  }
  return out;
}

// ---- responses ----

async function denyEverywhere(ip) {
  const acls = (await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: NETWORK_ACLS }))).NetworkAcls ?? [];
  const done = [];
  for (const acl of acls) {
    const inbound = (acl.Entries ?? []).filter((e) => !e.Egress);
    if (inbound.some((e) => e.RuleAction === 'deny' && e.CidrBlock === `${ip}/32`)) continue;
    const used = new Set(inbound.map((e) => e.RuleNumber));
    let n = DENY_RULE_BASE;
    while (used.has(n)) n++;
    if (n >= FIRST_ALLOW_RULE) throw new Error(`no free rule number below ${FIRST_ALLOW_RULE} in ${acl.NetworkAclId}`);
    await ec2.send(new CreateNetworkAclEntryCommand({
      NetworkAclId: acl.NetworkAclId, RuleNumber: n, Egress: false, Protocol: '-1', RuleAction: 'deny', CidrBlock: `${ip}/32`,
    }));
    done.push(`${acl.NetworkAclId}#${n}`);
  }
  return done;
}

async function blockNoisySources(since) {
  const counts = new Map();
  for (const r of await records('REJECT', since)) {
    if (r.action === 'REJECT' && outside(r.src) && !outside(r.dst)) counts.set(r.src, (counts.get(r.src) ?? 0) + 1);
  }
  const offenders = [...counts].filter(([, n]) => n >= REJECTS_TO_BLOCK).map(([ip]) => ip);
  const actions = [];
  for (const ip of offenders) actions.push(`denied ${ip} (${counts.get(ip)} refused connections) in ${(await denyEverywhere(ip)).join(', ') || 'every ACL already'}`);
  return actions;
}

async function isolateTopTalker(since) {
  const bytes = new Map();
  for (const r of await records('ACCEPT', since)) {
    if (r.action === 'ACCEPT' && !outside(r.src) && outside(r.dst)) bytes.set(r.eni, (bytes.get(r.eni) ?? 0) + r.bytes);
  }
  const [eni, sent] = [...bytes].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (!eni || sent < BYTES_TO_ISOLATE) return [];
  const nic = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }))).NetworkInterfaces?.[0];
  const instanceId = nic?.Attachment?.InstanceId;
  if (!instanceId) return [`${eni} sent ${sent} bytes out but is attached to no instance`];
  await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [QUARANTINE_GROUP] }));
  return [`isolated ${instanceId} (${eni}, ${Math.round(sent / 1e6)} MB sent out)`];
}

/** SNS notifications of alarms (and, for convenience, EventBridge alarm state-change events). */
function alarmsOf(event) {
  if (Array.isArray(event.Records)) return event.Records.map((r) => JSON.parse(r.Sns.Message));
  if (event['detail-type'] === 'CloudWatch Alarm State Change') {
    return [{ AlarmName: event.detail.alarmName, NewStateValue: event.detail.state.value, StateChangeTime: event.time, Trigger: { MetricName: event.detail.configuration?.metrics?.[0]?.metricStat?.metric?.name } }];
  }
  return [];
}

export const handler = async (event) => {
  const done = [];
  for (const alarm of alarmsOf(event)) {
    if (alarm.NewStateValue !== 'ALARM') continue;
    const since = Date.parse(alarm.StateChangeTime) - LOOKBACK_MS;
    const actions = alarm.Trigger?.MetricName === OUTBOUND_METRIC ? await isolateTopTalker(since) : await blockNoisySources(since);
    console.log(`${alarm.AlarmName}: ${actions.length ? actions.join('; ') : 'nothing to do'}`);
    done.push(...actions);
  }
  return { actions: done };
};
