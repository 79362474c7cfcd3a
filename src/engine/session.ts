// One run of one lab in its own account: what provisioning, checks and scenarios share.
import { randomBytes } from 'node:crypto';
import { STSClient, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import type { LabCloud, AwsCredentials, ClientOptions } from '../cloud/labcloud.ts';
import type { RootCredentials } from '../cloud/gateway/server.ts';
import type { Credential } from '../cloud/gateway/credentials.ts';
import type { Decision } from '../cloud/policy/types.ts';
import type { CloudTrailRecord } from '../cloud/services/cloudtrail/recorder.ts';
import type { AttackStep } from './types.ts';
import { newSeed, Random } from './random.ts';

/** Addresses the labs use: documentation ranges (RFC 5737), never routed anywhere. */
export const OFFICE_CIDR = '203.0.113.0/24';

export class LabSession {
  /** Unique in the lab cloud (bucket names...): not from the seed, so equal seeds can run at once. */
  readonly runId = randomBytes(4).toString('hex');
  /** Every random choice of the lab (planted addresses, the company's traffic...): drawn from the seed. */
  readonly random: Random;
  /** Facts from provisioning (names of people, buckets, IPs) that students and checks use. */
  env: Record<string, unknown> = {};
  /** Facts only the grader sees (the rogue address of planted history...), never passed to student code. */
  hidden: Record<string, unknown> = {};
  /** State captured before the student's code ran (what was planted). */
  snapshot: Record<string, unknown> = {};
  /** What each student export returned, by export name. */
  studentOutputs: Record<string, unknown> = {};
  /** Business checks that failed: restrictive controls and scenarios earn nothing then. */
  businessBroken = false;
  /** The workspace being graded, when there is one (labs whose students write configuration files read them here). */
  workspace?: string;
  /** The attacks have run (posture checks with `afterAttacks` are being run again). */
  attacksRan = false;
  /** Called for each attack step as it happens (the live view of `seclab attack`). */
  onAttackStep?: (step: AttackStep) => void;

  constructor(readonly cloud: LabCloud, readonly root: RootCredentials, readonly seed: string = newSeed()) {
    this.random = new Random(seed);
  }

  get accountId(): string {
    return this.root.accountId;
  }

  get rootCredentials(): AwsCredentials {
    return { accessKeyId: this.root.accessKeyId, secretAccessKey: this.root.secretAccessKey };
  }

  get gateway() {
    return this.cloud.gateway;
  }

  /** An SDK client through the gateway; as the account root unless credentials are given. */
  client<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(Ctor: new (cfg: never) => C, opts: Partial<ClientOptions> = {}): C {
    return this.cloud.client(Ctor, { credentials: opts.credentials ?? this.rootCredentials, ...opts } as ClientOptions);
  }

  /** The active long-term access keys of an IAM user (what is on that person's laptop). */
  keysOf(userName: string): Credential[] {
    return this.gateway.credentials.forUser(this.accountId, userName).filter((c) => c.kind === 'user' && c.status === 'Active');
  }

  /** Enabled MFA device serials of a user. */
  mfaDevicesOf(userName: string): string[] {
    return this.gateway.service('iam').mfa.forUser(this.accountId, userName).map((d) => d.serial);
  }

  /**
   * Signs in as a person would: their own access key, and when they have an MFA device, a session
   * obtained with the code their authenticator shows. Undefined when the person has no key.
   */
  async signIn(userName: string, sourceIp: string): Promise<AwsCredentials | undefined> {
    const key = this.keysOf(userName)[0];
    if (!key) return undefined;
    const longTerm = { accessKeyId: key.accessKeyId, secretAccessKey: key.secret };
    const serial = this.mfaDevicesOf(userName)[0];
    if (!serial) return longTerm;
    // A code already used (say, to enable the device) is refused as a replay; like a person, wait
    // for the authenticator's next code. The lab clock makes the wait instant.
    const device = this.gateway.service('iam').mfa.get(this.accountId, serial)!;
    const step = Math.floor(this.gateway.clock.nowMs() / 30_000);
    if (device.lastStep >= step) await this.gateway.clock.advance((device.lastStep - step + 1) * 30_000);
    const sts = this.client(STSClient, { credentials: longTerm, sourceIp });
    const out = await sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: this.gateway.service('iam').mfaCode(this.accountId, serial) }));
    const c = out.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  }

  /**
   * What the account's policies decide for a user, without making the call (the same evaluator that
   * authorizes real calls). `mfa`: undefined = long-term key (the MFA key is absent), true/false = a
   * session with or without MFA.
   */
  async decide(userName: string, action: string, resource: string, opts: { mfa?: boolean; sourceIp?: string } = {}): Promise<Decision> {
    const details = await this.gateway.service('iam').policies.account(this.accountId);
    const user = details.users.get(userName);
    const cred: Credential = {
      accessKeyId: 'AKIASIMULATED0000000', secret: '', account: this.accountId,
      kind: opts.mfa === undefined ? 'user' : 'session', userName, userId: user?.UserId,
      arn: user?.Arn ?? `arn:aws:iam::${this.accountId}:user/${userName}`, status: 'Active',
      ...(opts.mfa === undefined ? {} : { mfaAuthenticated: opts.mfa, issuedAt: this.gateway.clock.now(), mfaAuthTime: this.gateway.clock.now() }),
    };
    // The context of a real request by that person (address, SDK user agent): a probe must not be
    // told apart from real use by a policy.
    const context = this.gateway.contextOf(cred, opts.sourceIp ?? '203.0.113.10', 'aws-sdk-js/3.1169.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.20.2 api/s3#3.1175.0 m/E', { region: this.cloud.region });
    return this.gateway.decide(cred, action, resource, context);
  }

  /** CloudTrail records of this account so far. */
  events(): readonly CloudTrailRecord[] {
    return this.gateway.service('cloudtrail').trail.all(this.accountId);
  }

  now(): number {
    return this.gateway.clock.nowMs();
  }

  /**
   * Moves the lab clock to the next multiple of ten minutes (from 22:00 UTC on, to midnight): the start
   * of simulated time whose outcome must not depend on the wall-clock moment it began at (TOTP steps,
   * capture windows, alarm periods, S3 delivery periods are aligned on the epoch and divide ten
   * minutes). Call it holding the clock (`clock.exclusive`), so that nothing else moves it afterwards.
   */
  async alignClock(): Promise<void> {
    const clock = this.gateway.clock;
    const now = clock.nowMs();
    let t = Math.ceil(now / ALIGN_MS) * ALIGN_MS;
    // What starts before 22:00 (and lasts less than two hours) ends on the same UTC day: S3 key dates.
    if (new Date(t).getUTCHours() >= 22) t = Math.ceil(t / DAY_MS) * DAY_MS;
    if (t > now) await clock.advance(t - now);
  }
}

const ALIGN_MS = 10 * 60_000;
const DAY_MS = 24 * 3600_000;
