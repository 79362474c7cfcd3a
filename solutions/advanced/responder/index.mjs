// Northwind's automated responder (reference). EventBridge invokes it with GuardDuty findings and with
// the anomaly detector's events. It contains the threat the event names, and only that:
// - an instance that is the actor (C2 beaconing, traffic to a threat-list address, unusual outbound
//   volume, an outbound scan or DoS) is isolated: its security groups swapped for the quarantine group;
// - an outside address that attacks (port probes, scans, brute force, a flood, a C2 server) is denied
//   in the production subnets' network ACLs, with rules numbered below the allow rules;
// - instance credentials used outside the instance: the role's sessions are revoked (an inline Deny
//   of everything for tokens issued before now, as the console's "Revoke active sessions");
// - an IAM user's key used from a threat-list address: the key is deactivated.
// It never acts on the company's contracted scanner nor on an archived finding, and tells the admins
// (SNS: email and SMS) what it found and did. Configuration comes from the function's environment.
import { existsSync, readFileSync } from 'node:fs';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  EC2Client, CreateNetworkAclEntryCommand, DescribeInstancesCommand, DescribeNetworkAclsCommand, ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { IAMClient, PutRolePolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';

const ec2 = new EC2Client({});
const iam = new IAMClient({});
const sns = new SNSClient({});
const logs = new CloudWatchLogsClient({});

const env = process.env;
const TOPIC = env.TOPIC_ARN;
const VPC_CIDR = env.VPC_CIDR ?? '10.20.0.0/16';
const NETWORK_ACLS = (env.NETWORK_ACL_IDS ?? '').split(',').filter(Boolean);
const QUARANTINE_GROUP = env.QUARANTINE_GROUP_ID;
const FIRST_ALLOW_RULE = Number(env.FIRST_ALLOW_RULE ?? 100);
const DENY_RULE_BASE = Number(env.DENY_RULE_BASE ?? 10);
const FLOW_LOG_GROUP = env.FLOW_LOG_GROUP;
// Never blocked, never isolated over: the contracted scanner, and the company's own networks.
const NEVER_BLOCK = (env.NEVER_BLOCK ?? '').split(',').filter(Boolean);
const ANOMALY_SOURCE = env.ANOMALY_SOURCE ?? 'northwind.anomaly';
// Outside addresses a host talked to in these hours before an anomaly are its usual destinations
// (the backup's S3 address, the update servers); the last RECENT_MS do not count (the attack's own).
const KNOWN_PEERS_MS = Number(env.KNOWN_PEERS_HOURS ?? 6) * 3600_000;
const RECENT_MS = 30 * 60_000;
const VPC_PREFIX = VPC_CIDR.split('.').slice(0, 2).join('.') + '.';
// Each server's usual outside destinations in the fourteen baseline days (written by solution.ts).
const KNOWN_PEERS_FILE = new URL('./known-peers.json', import.meta.url);
const BASELINE_PEERS = existsSync(KNOWN_PEERS_FILE) ? JSON.parse(readFileSync(KNOWN_PEERS_FILE, 'utf8')) : {};
// An ACL holds twenty entries a direction (AWS's default quota), its allow rules among them.
const MAX_BLOCKS_PER_EVENT = Number(env.MAX_BLOCKS_PER_EVENT ?? 20);
/** Records + ports in three minutes above which one outside source is hammering a host. */
const MIN_SOURCE_SCORE = Number(env.MIN_SOURCE_SCORE ?? 30);

// ---- addresses ----

const toInt = (ip) => ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
const isV4 = (ip) => typeof ip === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
function inCidr(ip, cidr) {
  if (!isV4(ip)) return false;
  const [base, bits] = cidr.split('/');
  const n = Number(bits ?? 32);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (toInt(ip) & mask) === (toInt(base) & mask);
}
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8'];
const blockable = (ip) => isV4(ip) && !PRIVATE.some((c) => inCidr(ip, c)) && !inCidr(ip, VPC_CIDR)
  && !NEVER_BLOCK.some((c) => inCidr(ip, c.includes('/') ? c : `${c}/32`));

// ---- actions ----

/**
 * Denies an address in the production ACLs, inbound (its connections, and the answers to ours), and
 * with `outbound` also our connections to it (a C2 server, a drop site).
 */
let aclCache;
async function denyAddress(ip, { outbound = false } = {}) {
  if (!blockable(ip)) return `left ${ip} alone (ours, or the contracted scanner)`;
  // Read once per invocation; entries added here are remembered in it.
  aclCache ??= (await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: NETWORK_ACLS }))).NetworkAcls ?? [];
  const acls = aclCache;
  const done = [];
  for (const acl of acls) {
    for (const egress of outbound ? [false, true] : [false]) {
      const entries = (acl.Entries ?? []).filter((e) => e.Egress === egress);
      if (entries.some((e) => e.RuleAction === 'deny' && e.CidrBlock === `${ip}/32`)) continue;
      const used = new Set(entries.map((e) => e.RuleNumber));
      let n = DENY_RULE_BASE;
      while (used.has(n)) n++;
      if (n >= FIRST_ALLOW_RULE) throw new Error(`no free rule number below ${FIRST_ALLOW_RULE} in ${acl.NetworkAclId}`);
      await ec2.send(new CreateNetworkAclEntryCommand({
        NetworkAclId: acl.NetworkAclId, RuleNumber: n, Egress: egress, Protocol: '-1', RuleAction: 'deny', CidrBlock: `${ip}/32`,
      }));
      acl.Entries = [...(acl.Entries ?? []), { RuleNumber: n, Egress: egress, RuleAction: 'deny', CidrBlock: `${ip}/32` }];
      done.push(`${acl.NetworkAclId}#${n}${egress ? ' out' : ' in'}`);
    }
  }
  return `denied ${ip} (${done.join(', ') || 'already denied everywhere'})`;
}

async function instanceByAddress(privateIp) {
  const r = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'private-ip-address', Values: [privateIp] }] }));
  return r.Reservations?.flatMap((x) => x.Instances ?? [])[0]?.InstanceId;
}

async function isolate(instanceId) {
  if (!instanceId) return 'no instance to isolate';
  await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [QUARANTINE_GROUP] }));
  return `isolated ${instanceId} (security groups replaced by ${QUARANTINE_GROUP})`;
}

/** The console's "Revoke active sessions": deny everything to tokens issued before `when`. */
async function revokeSessions(roleName, when) {
  await iam.send(new PutRolePolicyCommand({
    RoleName: roleName, PolicyName: 'AWSRevokeOlderSessions',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': when } } }],
    }),
  }));
  return `revoked the sessions of role ${roleName} issued before ${when}`;
}

async function disableKey(userName, accessKeyId) {
  await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: 'Inactive' }));
  return `deactivated access key ${accessKeyId} of ${userName}`;
}

async function notify(subject, lines) {
  if (!TOPIC) return;
  await sns.send(new PublishCommand({ TopicArn: TOPIC, Subject: subject.slice(0, 99), Message: lines.join('\n') }));
}

// ---- GuardDuty findings ----

function remoteAddresses(finding) {
  const a = finding.service?.action ?? {};
  const ips = [
    a.networkConnectionAction?.remoteIpDetails?.ipAddressV4,
    a.awsApiCallAction?.remoteIpDetails?.ipAddressV4,
    ...(a.portProbeAction?.portProbeDetails ?? []).map((p) => p.remoteIpDetails?.ipAddressV4),
  ];
  return [...new Set(ips.filter(isV4))];
}

// The instance is the one doing harm: its outbound traffic goes where it must not.
const INSTANCE_ACTOR = [
  /^Backdoor:EC2\//, /^CryptoCurrency:EC2\//, /^Trojan:EC2\//, /^UnauthorizedAccess:EC2\/MaliciousIPCaller/,
  /^Recon:EC2\/Portscan$/, /^Behavior:EC2\/TrafficVolumeUnusual$/, /^Behavior:EC2\/NetworkPortUnusual$/, /^UnauthorizedAccess:EC2\/TorClient$/,
];
// The instance is the target: the remote address is the attacker.
const ADDRESS_ATTACKER = [/^Recon:EC2\/PortProbe/, /^UnauthorizedAccess:EC2\/(SSH|RDP)BruteForce$/, /^UnauthorizedAccess:EC2\/TorIPCaller$/];
// Also block the remote end when the instance talks to a known-bad address.
const BAD_REMOTE = [/^Backdoor:EC2\/C&CActivity/, /^UnauthorizedAccess:EC2\/MaliciousIPCaller/, /^CryptoCurrency:EC2\//];

async function onFinding(finding, eventTime) {
  const type = finding.type ?? '';
  if (finding.service?.archived) return { what: `${type}: archived, nothing done`, actions: [], quiet: true };
  const actions = [];
  const remotes = remoteAddresses(finding);
  if (remotes.some((ip) => NEVER_BLOCK.some((c) => inCidr(ip, c.includes('/') ? c : `${c}/32`)))) {
    return { what: `${type} from the contracted scanner: nothing done (suppress it with a filter)`, actions, quiet: true };
  }
  if (finding.service?.additionalInfo?.sample) return { what: `${type}: a sample finding, nothing done`, actions, quiet: true };
  const resource = finding.resource ?? {};
  const key = resource.accessKeyDetails ?? {};
  const instanceId = resource.instanceDetails?.instanceId;
  const outbound = finding.service?.action?.networkConnectionAction?.connectionDirection !== 'INBOUND';

  if (/InstanceCredentialExfiltration/.test(type)) {
    // userName is the role's name for an instance's credentials (principalId is "AROA…:i-…").
    const role = key.userName;
    // "Now" of the cloud that issued the credentials: the event's time (the function's own clock may
    // differ from the lab clock, and a time ahead of it would also refuse the instances' next sessions).
    const when = new Date(Math.max(Date.parse(eventTime) || 0, Date.parse(finding.updatedAt) || 0) || Date.now()).toISOString();
    if (role) actions.push(await revokeSessions(role, when));
  } else if (key.userType === 'IAMUser' && /MaliciousIPCaller|TorIPCaller/.test(type)) {
    if (key.userName && key.accessKeyId) actions.push(await disableKey(key.userName, key.accessKeyId));
  } else if (resource.resourceType === 'Instance') {
    // Only when it reaches outside: unusual traffic between our own servers is not exfiltration or C2.
    if (INSTANCE_ACTOR.some((r) => r.test(type)) && outbound && instanceId && remotes.some(blockable)) actions.push(await isolate(instanceId));
    const bad = BAD_REMOTE.some((r) => r.test(type));
    if (ADDRESS_ATTACKER.some((r) => r.test(type)) || bad) {
      for (const ip of remotes) actions.push(await denyAddress(ip, { outbound: bad }));
    }
  }
  return { what: `${type} (severity ${finding.severity}) on ${instanceId ?? key.userName ?? resource.resourceType}${remotes.length ? ` involving ${remotes.join(', ')}` : ''}`, actions };
}

// ---- anomaly events ----


function parseRecord(message) {
  const f = String(message).trim().split(/\s+/);
  if (f.length < 14 || f[0] === 'version') return undefined;
  return { src: f[3], dst: f[4], srcport: Number(f[5]), dstport: Number(f[6]), packets: Number(f[8]) || 0, bytes: Number(f[9]) || 0, start: Number(f[10]), action: f[12] };
}
/** A connection the sender opened (from an ephemeral port), not its answer from a server port. */
const opened = (r) => r.srcport > r.dstport;

/** Flow records that involve the host between two times (ms), optionally only those it sent outside. */
async function recordsOf(host, from, to, { outbound = false } = {}) {
  if (!FLOW_LOG_GROUP) return [];
  const filterPattern = outbound
    ? `[version, account, eni, srcaddr=${host}, dstaddr!=${VPC_PREFIX}*, srcport, dstport, protocol, packets, bytes, start, end, action, status]`
    : `"${host}"`;
  const out = [];
  let nextToken;
  for (let page = 0; page < 40; page++) {
    const r = await logs.send(new FilterLogEventsCommand({ logGroupName: FLOW_LOG_GROUP, filterPattern, startTime: from, endTime: to, nextToken }));
    for (const e of r.events ?? []) {
      const rec = parseRecord(e.message ?? '');
      if (rec && (rec.src === host || rec.dst === host)) out.push(rec);
    }
    if (!r.nextToken || r.nextToken === nextToken) break;
    nextToken = r.nextToken;
  }
  return out;
}

/** Outside addresses sending the most to the host (a flood, a scan): most records first. */
function heaviestSources(records, host) {
  const by = new Map();
  for (const r of records) {
    // Connections the outside address opened: a server answering the host (an update download) is not hammering it.
    if (r.dst !== host || !blockable(r.src) || !opened(r)) continue;
    const s = by.get(r.src) ?? { records: 0, ports: new Set() };
    s.records++;
    s.ports.add(r.dstport);
    by.set(r.src, s);
  }
  const all = [...by].map(([ip, s]) => ({ ip, score: s.records + s.ports.size }));
  if (!all.length) return [];
  all.sort((a, b) => b.score - a.score);
  // The attackers stand out from the crowd of customers: several times the median source, and more
  // than a customer ever sends in a few minutes.
  const median = all[Math.floor(all.length / 2)].score;
  return all.filter((s) => s.score >= Math.max(MIN_SOURCE_SCORE, median * 4)).slice(0, MAX_BLOCKS_PER_EVENT).map((s) => s.ip);
}

async function onAnomaly(detail) {
  const host = detail.host;
  const reasons = Array.isArray(detail.reasons) ? detail.reasons : [];
  const actions = [];
  const what = `network anomaly on ${host} (score ${detail.score} > ${detail.threshold}: ${reasons.map((r) => r.feature).join(', ')})`;
  if (!isV4(host) || !inCidr(host, VPC_CIDR)) return { what, actions };
  const from = Date.parse(detail.windowStart);
  const to = Date.parse(detail.windowEnd);
  // Someone hammering the host (a flood, a scan) shows in what it receives — and in its answers, which
  // the model may name instead: deny the outside sources that stand out, keep the host up.
  const around = await recordsOf(host, from - 60_000, to + 60_000);
  for (const ip of heaviestSources(around, host)) actions.push(await denyAddress(ip));
  // The host itself opening connections to an outside address it has not talked to before (in the
  // baseline or the hours before): a drop site, a C2 server. The host is compromised: isolate it and
  // deny the address. An odd volume to its usual destinations (the hourly backup) is left to people.
  const destinations = [...new Set(around.filter((r) => r.src === host && opened(r)).map((r) => r.dst).filter(blockable))];
  if (!destinations.length) return { what, actions };
  const before = await recordsOf(host, from - KNOWN_PEERS_MS, from - RECENT_MS, { outbound: true });
  const known = new Set([...before.map((r) => r.dst), ...(BASELINE_PEERS[host] ?? [])]);
  const fresh = destinations.filter((ip) => !known.has(ip));
  if (!fresh.length) return { what, actions };
  actions.push(await isolate(detail.instanceId ?? await instanceByAddress(host)));
  for (const ip of fresh.slice(0, MAX_BLOCKS_PER_EVENT)) actions.push(await denyAddress(ip, { outbound: true }));
  return { what, actions };
}

export const handler = async (event) => {
  let result;
  if (event?.source === 'aws.guardduty' && event.detail) result = await onFinding(event.detail, event.time);
  else if (event?.source === ANOMALY_SOURCE && event.detail) result = await onAnomaly(event.detail);
  else return { actions: [], ignored: `${event?.source} ${event?.['detail-type']}` };
  console.log(`${result.what}: ${result.actions.join('; ') || 'no action'}`);
  if (!result.quiet) await notify(`[Northwind security] ${result.what}`, [result.what, '', ...(result.actions.length ? result.actions : ['no automatic action'])]);
  return result;
};
