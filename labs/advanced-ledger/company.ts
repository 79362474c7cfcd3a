// Lab advanced-ledger: Northwind's customer records and the application that reads and updates them.
// The app is grader-side code driven on the lab clock: it calls S3 with its own IAM user's key (so
// CloudTrail records its data events on the data bucket) and writes one audit event per access to its
// own CloudWatch Logs group. Its events are JSON with an `id` the ledger entry must carry as
// source.id (CloudWatch Logs' own event ids differ between a subscription and FilterLogEvents).
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { LabSession } from '../../src/engine/session.ts';
import { Rng } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { APP_LOG_GROUP, ledgerEnv, ledgerHidden } from './env.ts';

export const MINUTE = 60_000;
export const APP_STREAM = 'app-1';
/** The app's address (its servers' NAT). */
export const APP_IP = '10.20.1.15';
export const CUSTOMERS = 24;

/** The customer records provisioning writes: key → JSON body. */
export function customerRecords(seed: string): { key: string; body: string }[] {
  const r = new Rng(`${seed}|ledger-customers`);
  const first = ['Ada', 'Bram', 'Chen', 'Dara', 'Elif', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Luis'];
  const last = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', 'Novak', 'Haddad', 'Brennan'];
  return Array.from({ length: CUSTOMERS }, (_, i) => {
    const id = `NW-${String(20_000 + i * 13 + r.int(0, 12))}`;
    const rec = { id, name: `${r.pick(first)} ${r.pick(last)}`, email: `${id.toLowerCase()}@customers.northwind.example`, plan: r.pick(['starter', 'team', 'enterprise']), annualValueUsd: r.int(1, 400) * 250, iban: `DE${r.int(10, 99)}${String(r.int(0, 1e9)).padStart(10, '0')}${String(r.int(0, 1e8)).padStart(8, '0')}` };
    return { key: `customers/${id}.json`, body: `${JSON.stringify(rec, null, 2)}\n` };
  });
}

/** One app audit event (the message the app writes to its log group). */
export interface AppAuditEvent {
  id: string;
  time: string;
  actor: string;
  action: 'read' | 'update';
  record: string;
  outcome: 'ok' | 'failed';
}

/** What the app did and what failed (business), kept in session.hidden. */
export interface AppTally {
  seq: number;
  calls: number;
  failures: { at: number; what: string; error: string }[];
  events: AppAuditEvent[];
}

const TALLY = 'advanced-ledger-app';

export function appTally(session: LabSession): AppTally {
  let t = session.hidden[TALLY] as AppTally | undefined;
  if (!t) {
    t = { seq: 0, calls: 0, failures: [], events: [] };
    session.hidden[TALLY] = t;
  }
  return t;
}

/**
 * One minute of the app: reads two records and updates one, each with an audit event, then the lab
 * clock moves a minute (CloudTrail delivers, subscriptions run, Lambda invocations settle).
 */
export async function appMinute(session: LabSession, opts: { advance?: boolean } = {}): Promise<void> {
  const env = ledgerEnv(session);
  const hidden = ledgerHidden(session);
  const tally = appTally(session);
  const credentials = { accessKeyId: hidden.app.accessKeyId, secretAccessKey: hidden.app.secretAccessKey };
  const s3 = session.client(S3Client, { credentials, sourceIp: APP_IP });
  const logs = session.client(CloudWatchLogsClient, { credentials, sourceIp: APP_IP });
  const rng = session.random.fork(`ledger-app-${tally.seq}`);
  const keys = hidden.records;
  const ops: { action: 'read' | 'update'; key: string }[] = [
    { action: 'read', key: rng.pick(keys) },
    { action: 'read', key: rng.pick(keys) },
    { action: 'update', key: rng.pick(keys) },
  ];
  const events: AppAuditEvent[] = [];
  for (const op of ops) {
    tally.calls++;
    let outcome: AppAuditEvent['outcome'] = 'ok';
    try {
      const o = await s3.send(new GetObjectCommand({ Bucket: env.company.dataBucket, Key: op.key }));
      const body = await o.Body!.transformToString();
      if (op.action === 'update') {
        const rec = JSON.parse(body) as Record<string, unknown>;
        rec['lastContact'] = new Date(session.now()).toISOString();
        await s3.send(new PutObjectCommand({ Bucket: env.company.dataBucket, Key: op.key, Body: `${JSON.stringify(rec, null, 2)}\n`, ContentType: 'application/json' }));
      }
    } catch (e) {
      outcome = 'failed';
      tally.failures.push({ at: session.now(), what: `${op.action} ${op.key}`, error: `${(e as Error).name}: ${(e as Error).message}` });
    }
    events.push({ id: `app-${String(++tally.seq).padStart(6, '0')}`, time: new Date(session.now()).toISOString(), actor: env.company.app.userName, action: op.action, record: op.key, outcome });
  }
  try {
    await logs.send(new PutLogEventsCommand({
      logGroupName: APP_LOG_GROUP, logStreamName: APP_STREAM,
      logEvents: events.map((e, i) => ({ timestamp: session.now() + i, message: JSON.stringify(e) })),
    }));
    tally.events.push(...events);
  } catch (e) {
    tally.failures.push({ at: session.now(), what: 'write its audit events', error: `${(e as Error).name}: ${(e as Error).message}` });
  }
  if (opts.advance !== false) await session.gateway.clock.advance(MINUTE);
}
