// Northwind's normal day, running underneath every scenario of lab siem so that noisy rules show: people and the
// orders application calling AWS from their usual addresses (a developer's occasional AccessDenied included), the
// administrator signing in to the console with MFA, the application and bastion writing their logs, and the VPC's
// traffic (customers, tiers, backups, updates) through the data plane.
import { IAMClient, ListUsersCommand, GetAccountSummaryCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { S3Client, GetObjectCommand, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { LabSession } from '../../src/engine/session.ts';
import type { AwsCredentials } from '../../src/cloud/labcloud.ts';
import { normalTraffic, type CompanyProfile, type Flow } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { recordConsoleSignIn } from '../../src/cloud/services/cloudtrail/console-signin.ts';
import { ADMIN, ANALYST, APP_CONFIG, APP_USER, DEVELOPER, LOG_GROUPS, person, type SiemLabEnv } from './company.ts';

export const MINUTE = 60_000;
export const labEnv = (s: LabSession): SiemLabEnv => s.env as unknown as SiemLabEnv;

/** Where provisioning records the access key each person and application was given. */
export const HELD_KEYS = 'siemHeldKeys';

/** Records the key a person or application was given (provisioning), so later rounds use that one. */
export function holdKey(s: LabSession, user: string, accessKeyId: string): void {
  const held = (s.hidden[HELD_KEYS] ??= {}) as Record<string, string>;
  held[user] = accessKeyId;
}

/**
 * A lab person's or application's long-term key: the one they were given (on their laptop or server), while it is
 * still active. A key someone else created for them later (the student, as the account's root) is not on their
 * laptop, so their work does not use it: deleting or deactivating the key they hold breaks their work.
 */
export function keyOf(s: LabSession, user: string): AwsCredentials | undefined {
  const held = (s.hidden[HELD_KEYS] as Record<string, string> | undefined)?.[user];
  const active = s.keysOf(user);
  const k = held === undefined && !s.hidden[HELD_KEYS] ? active[0] : active.find((x) => x.accessKeyId === held);
  return k && { accessKeyId: k.accessKeyId, secretAccessKey: k.secret };
}

interface Clients {
  iam: Record<string, IAMClient>;
  s3: Record<string, S3Client>;
  round: number;
}
const clients = new WeakMap<LabSession, Clients>();

function clientsOf(s: LabSession): Clients {
  let c = clients.get(s);
  if (!c) clients.set(s, (c = { iam: {}, s3: {}, round: 0 }));
  return c;
}

function iamAs(s: LabSession, user: string, ip: string): IAMClient | undefined {
  const c = clientsOf(s);
  const key = keyOf(s, user);
  if (!key) return undefined;
  const id = `${user}|${key.accessKeyId}|${ip}`;
  return (c.iam[id] ??= s.client(IAMClient, { credentials: key, sourceIp: ip, userAgent: `aws-cli/2.17.0 ${user}-workstation` }));
}

function s3As(s: LabSession, user: string, ip: string): S3Client | undefined {
  const c = clientsOf(s);
  const key = keyOf(s, user);
  if (!key) return undefined;
  const id = `${user}|${key.accessKeyId}|${ip}`;
  return (c.s3[id] ??= s.client(S3Client, { credentials: key, sourceIp: ip, userAgent: user === APP_USER ? 'aws-sdk-js/3.600.0 orders-service/2.4' : `aws-cli/2.17.0 ${user}-workstation` }));
}

/** What happened to the background's calls: legitimate work that was refused breaks the business. */
export interface BackgroundTally {
  calls: number;
  /** Refusals of calls that should succeed (not the developer's known mistake). */
  refused: string[];
}

export const emptyTally = (): BackgroundTally => ({ calls: 0, refused: [] });

async function call(t: BackgroundTally, what: string, fn: (() => Promise<unknown>) | undefined, expectRefusal = false): Promise<void> {
  t.calls++;
  if (!fn) {
    t.refused.push(`${what}: the key is gone`);
    return;
  }
  try {
    const out = (await fn()) as { Body?: { transformToByteArray?: () => Promise<unknown> } } | undefined;
    // Read downloaded bodies: an unread body keeps its connection busy (and the client's pool runs dry).
    await out?.Body?.transformToByteArray?.();
    if (expectRefusal) return;
  } catch (e) {
    if (expectRefusal) return;
    const err = e as { name?: string; message?: string };
    t.refused.push(`${what}: ${err.name}: ${err.message}`);
  }
}

/**
 * One round of the company's API activity (about five minutes of it): the administrator reviewing IAM, the
 * developer publishing a build (and now and then trying something his policy does not allow), the analyst reading
 * a report, the orders application reading its configuration and writing an order.
 */
export async function apiRound(s: LabSession, tally: BackgroundTally = emptyTally()): Promise<BackgroundTally> {
  const env = labEnv(s);
  const c = clientsOf(s);
  const r = c.round++;
  const alice = person(env, ADMIN).officeIp;
  const ben = person(env, DEVELOPER).officeIp;
  const dan = person(env, ANALYST).officeIp;
  const appIp = env.app.egressIp;
  const iamAlice = iamAs(s, ADMIN, alice);
  await call(tally, 'alice lists IAM users', iamAlice && (() => iamAlice.send(new ListUsersCommand({}))));
  if (r % 2 === 1) await call(tally, 'alice reads the account summary', iamAlice && (() => iamAlice.send(new GetAccountSummaryCommand({}))));
  const s3Ben = s3As(s, DEVELOPER, ben);
  await call(tally, 'ben lists the artifacts', s3Ben && (() => s3Ben.send(new ListObjectsV2Command({ Bucket: env.buckets.artifacts, Prefix: 'builds/' }))));
  await call(tally, 'ben publishes a build', s3Ben && (() => s3Ben.send(new PutObjectCommand({ Bucket: env.buckets.artifacts, Key: `builds/orders-${s.runId}-${r}.zip`, Body: 'PK' }))));
  if (r % 3 === 1) {
    const iamBen = iamAs(s, DEVELOPER, ben);
    // A developer poking at something his policy does not allow: one AccessDenied, now and then.
    await call(tally, 'ben tries to list roles', iamBen && (() => iamBen.send(new ListRolesCommand({}))), true);
  }
  const s3Dan = s3As(s, ANALYST, dan);
  await call(tally, 'dan reads the revenue report', s3Dan && (() => s3Dan.send(new GetObjectCommand({ Bucket: env.buckets.reports, Key: 'finance/q3-revenue.csv' }))));
  const s3App = s3As(s, APP_USER, appIp);
  for (const key of [APP_CONFIG[r % APP_CONFIG.length]!, APP_CONFIG[(r + 1) % APP_CONFIG.length]!]) {
    await call(tally, `the orders app reads ${key}`, s3App && (() => s3App.send(new GetObjectCommand({ Bucket: env.buckets.customerData, Key: key }))));
  }
  await call(tally, 'the orders app stores an order', s3App && (() => s3App.send(new PutObjectCommand({ Bucket: env.buckets.customerData, Key: `orders/${s.runId}/${r}.json`, Body: '{"items": 3}' }))));
  return tally;
}

/** Where people sometimes work from, outside the office: a home connection, a hotel's wifi. */
export const AWAY_IPS = { [ADMIN]: '198.51.100.77', [DEVELOPER]: '192.0.2.150', [ANALYST]: '198.51.100.140' } as const;

/**
 * Legitimate work spread over people, addresses and sign-ins (the quiet day's `step`-th ten minutes): the
 * administrator signing in with MFA from home and reviewing IAM from there, then signing in again at the office;
 * the developer publishing a build from a hotel; the analyst reading the report from home. Rules that flag every
 * sign-in, every address outside the office or every person's call are noise here.
 */
export async function awayRound(s: LabSession, step: number, tally: BackgroundTally = emptyTally()): Promise<BackgroundTally> {
  const env = labEnv(s);
  const r = clientsOf(s).round;
  if (step % 3 === 1) {
    recordConsoleSignIn(s.gateway.service('cloudtrail'), {
      account: s.accountId, userName: ADMIN, sourceIp: AWAY_IPS[ADMIN], mfaUsed: true,
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    });
    const iamAlice = iamAs(s, ADMIN, AWAY_IPS[ADMIN]);
    await call(tally, 'alice lists IAM users from home', iamAlice && (() => iamAlice.send(new ListUsersCommand({}))));
    await call(tally, 'alice reads the account summary from home', iamAlice && (() => iamAlice.send(new GetAccountSummaryCommand({}))));
  }
  if (step % 3 === 2) {
    // Back at the office after lunch: a new console session.
    adminConsoleSignIn(s);
    const s3Ben = s3As(s, DEVELOPER, AWAY_IPS[DEVELOPER]);
    await call(tally, 'ben lists the artifacts from a hotel', s3Ben && (() => s3Ben.send(new ListObjectsV2Command({ Bucket: env.buckets.artifacts, Prefix: 'builds/' }))));
    await call(tally, 'ben publishes a build from a hotel', s3Ben && (() => s3Ben.send(new PutObjectCommand({ Bucket: env.buckets.artifacts, Key: `builds/hotfix-${s.runId}-${r}.zip`, Body: 'PK' }))));
    const s3Dan = s3As(s, ANALYST, AWAY_IPS[ANALYST]);
    await call(tally, 'dan reads the revenue report from home', s3Dan && (() => s3Dan.send(new GetObjectCommand({ Bucket: env.buckets.reports, Key: 'finance/q3-revenue.csv' }))));
  }
  return tally;
}

/** The administrator signs in to the console, with MFA, from the office. */
export function adminConsoleSignIn(s: LabSession): void {
  const env = labEnv(s);
  recordConsoleSignIn(s.gateway.service('cloudtrail'), { account: s.accountId, userName: ADMIN, sourceIp: person(env, ADMIN).officeIp, mfaUsed: true });
}

/** The application's and the bastion's log lines for [from, to), written as the CloudWatch agent ships them. */
export async function appLogs(s: LabSession, from: number, to: number): Promise<void> {
  const env = labEnv(s);
  const app = env.vpc.instances.find((i) => i.tier === 'app')!;
  const web = env.vpc.instances.find((i) => i.tier === 'web')!;
  const minutes = Math.max(1, Math.round((to - from) / MINUTE));
  const orders = Array.from({ length: Math.min(30, minutes * 2) }, (_, i) => {
    const t = from + Math.floor(((i + 0.5) * (to - from)) / (minutes * 2));
    return { timestamp: t, message: JSON.stringify({ level: 'info', service: 'orders', event: i % 5 === 4 ? 'payment.retry' : 'order.created', orderId: `${s.runId}-${t}`, latencyMs: 40 + (i * 7) % 90 }) };
  });
  const bastion = [
    { timestamp: from + 1000, message: `sshd[${1000 + (from / 1000) % 9000}]: Accepted publickey for ec2-user from ${person(env, ADMIN).officeIp} port 52144 ssh2: ED25519 SHA256:nw-alice` },
    ...(minutes >= 5 ? [{ timestamp: from + 2 * MINUTE, message: `sshd[${2000 + (from / 1000) % 7000}]: Failed password for ec2-user from ${person(env, DEVELOPER).officeIp} port 50022 ssh2` }] : []),
  ];
  await s.gateway.sinks.putLogEvents(s.accountId, s.cloud.region, LOG_GROUPS.app, `${app.id}/orders.log`, orders);
  await s.gateway.sinks.putLogEvents(s.accountId, s.cloud.region, LOG_GROUPS.bastion, `${web.id}/secure`, bastion);
}

export function trafficProfile(env: SiemLabEnv): CompanyProfile {
  const ids = (tier: 'web' | 'app' | 'db') => env.vpc.instances.filter((i) => i.tier === tier).map((i) => i.id);
  return {
    web: { instanceIds: ids('web') },
    app: { instanceIds: ids('app') },
    db: { instanceIds: ids('db') },
    webUsers: { perMinute: 3, distinctUsers: 60 },
    webToAppRatio: 0.7,
    dbQueriesPerMinute: 2,
    // Bounded, as the workbook states: 18.1-19.9 MB to S3 in one flow, every half hour.
    backups: { everyMs: 30 * MINUTE, firstAtMs: 4 * MINUTE, bytes: 19_000_000, spread: 1.05 },
    updates: { everyMs: 45 * MINUTE },
  };
}

/** The VPC's normal traffic for [from, to). */
export async function normalFlows(s: LabSession, from: number, to: number): Promise<Flow[]> {
  const topology = await s.gateway.service('ec2').dataplane.topology(s.accountId, s.cloud.region);
  // From the grading's seed, in the order the lab asks for traffic: not from the (wall-clock) time.
  return normalTraffic(topology, trafficProfile(labEnv(s)), { from, to, seed: s.random.seedFor('traffic') });
}
