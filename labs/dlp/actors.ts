// The people and workloads of lab dlp as the grader plays them: each actor is a set of credentials
// (a role session the grader mints as STS or ECS would hand it to the workload, or an account's root)
// plus where its calls come from (a source address, or the company VPC's S3 endpoint). Business
// checks, attacks and the student's DLP test suite all act through these.
import { createHash, randomBytes } from 'node:crypto';
import { newAccessKeyId, newSecret } from '../../src/cloud/gateway/credentials.ts';
import type { LabSession } from '../../src/engine/session.ts';
import { dlpEnv } from './company.ts';
import type { DlpHidden } from './provision.ts';

export interface DlpActor {
  /** Who it is, in words (for feedback). */
  name: string;
  accountId: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Source address of its calls (X-Seclab-Source-Ip). */
  sourceIp: string;
  /** The VPC endpoint its S3 calls go through (X-Seclab-Vpce), when it runs in the company's VPC. */
  vpce?: string;
}

/** Session credentials for a role, as STS would issue them to the workload that runs with it (1 hour). */
export function roleSession(session: LabSession, account: string, roleArn: string, sessionName: string): DlpActor['credentials'] {
  const now = session.gateway.clock.now();
  const roleName = roleArn.split('/').pop() ?? '';
  const cred = session.gateway.credentials.add({
    accessKeyId: newAccessKeyId('ASIA'), secret: newSecret(), sessionToken: randomBytes(48).toString('base64'), account,
    kind: 'role-session', roleName, roleArn, sessionName, arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
    status: 'Active', issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000),
  });
  return { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secret, sessionToken: cred.sessionToken };
}

/** An address of `cidr` (a /24 or larger), chosen by `n`. */
export function addressIn(cidr: string, n: number): string {
  const [base] = cidr.split('/');
  const parts = base!.split('.').map(Number);
  return `${parts[0]}.${parts[1]}.${parts[2]}.${(parts[3]! + 10 + (n % 40))}`;
}

/**
 * A bucket name of no pattern (a letter, then 23 of a-z0-9): one a student could not deny by name
 * instead of building a perimeter. Seeded, and unique in the lab cloud (the session's run and the
 * account that holds it), since bucket names are global.
 */
export function opaqueBucketName(session: LabSession, label: string, accountId: string): string {
  const h = createHash('sha256').update(`${session.random.seedFor(label)}|${session.runId}|${accountId}`).digest();
  return Array.from({ length: 24 }, (_, i) => (i ? 'abcdefghijklmnopqrstuvwxyz0123456789'[h[i]! % 36] : 'abcdefghijklmnopqrstuvwxyz'[h[i]! % 26])).join('');
}

/** First octets of ordinary public address space (none of the office, the partner, the VPC or a documentation range). */
const PUBLIC_FIRST = [23, 31, 37, 45, 62, 77, 81, 89, 91, 109, 151, 176, 185, 188, 193, 212, 213, 217];
/** An address on the internet, another at each call (seeded). */
export function internetAddress(session: LabSession): string {
  const rng = session.random.fork('dlp-internet-address');
  return `${rng.pick(PUBLIC_FIRST)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** The company's and the partner's legitimate actors, fresh credentials each time. */
export function companyActors(session: LabSession) {
  const env = dlpEnv(session.env);
  const hidden = session.hidden['dlp'] as DlpHidden;
  const vpcIp = addressIn(env.network.vpcCidr, 7);
  return {
    /** A data analyst, signed in from the office. */
    analyst: (): DlpActor => ({ name: 'a data analyst (contoso-analyst, from the office)', accountId: env.accountId, credentials: roleSession(session, env.accountId, env.analysts.roleArn, 'dana'), sourceIp: addressIn(env.network.officeCidr, 3) }),
    /** The company's app, in its VPC, through the S3 endpoint. */
    app: (): DlpActor => ({ name: 'the company app (contoso-app, in the VPC)', accountId: env.accountId, credentials: roleSession(session, env.accountId, env.apps.app.roleArn, 'app-task'), sourceIp: vpcIp, vpce: env.network.s3EndpointId }),
    /** The nightly export job, in the VPC, through the S3 endpoint. */
    exporter: (): DlpActor => ({ name: 'the export job (contoso-analytics-exporter, in the VPC)', accountId: env.accountId, credentials: roleSession(session, env.accountId, env.apps.exporter.roleArn, 'nightly-export'), sourceIp: vpcIp, vpce: env.network.s3EndpointId }),
    /** The partner's ingest job, from the partner's network, with its own account's role. */
    partner: (): DlpActor => ({ name: `the partner's ingest job (${env.partner.readerRoleName})`, accountId: env.partner.accountId, credentials: roleSession(session, env.partner.accountId, env.partner.readerRoleArn, 'ingest'), sourceIp: addressIn(env.network.partnerCidr, 5) }),
    /**
     * An outside account's root (the attacker's own account): the graded attacks use it. From a fresh
     * address on the internet each time (seeded): no address the student could read in the grader's
     * source or in the logs of an earlier probe stands in for a network perimeter.
     */
    outsider: (): DlpActor & { bucket: string } => ({ name: 'an outside account', accountId: hidden.outside.accountId, credentials: { accessKeyId: hidden.outside.accessKeyId, secretAccessKey: hidden.outside.secretAccessKey }, sourceIp: internetAddress(session), bucket: hidden.outside.dropBucket }),
  };
}

/** A client of the lab cloud acting as `actor` (its credentials, address and, in the VPC, its endpoint). */
export function clientAs<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(session: LabSession, Ctor: new (cfg: never) => C, actor: Pick<DlpActor, 'credentials' | 'sourceIp' | 'vpce'>): C {
  const client = session.client(Ctor, { credentials: actor.credentials, sourceIp: actor.sourceIp });
  if (actor.vpce) {
    const vpce = actor.vpce;
    (client.middlewareStack as unknown as { add: (mw: unknown, o: unknown) => void }).add(
      (next: (a: unknown) => unknown) => async (args: { request: { headers: Record<string, string> } }) => {
        args.request.headers['x-seclab-vpce'] = vpce;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'seclabVpce' },
    );
  }
  return client;
}
