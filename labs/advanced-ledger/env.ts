// Lab advanced-ledger (slide 16, part 2): the names and shapes shared by provisioning, the checks, the
// attack scenarios (ATTACKS reads these), the trust pinning (trust.ts) and the student's side.
//
//   LedgerLabEnv     what the student's apply() receives (session.env): the company, where to build,
//                    the witness account's root credentials (the student builds the witness there).
//   LedgerHidden     grader only (session.hidden['advanced-ledger']): ops-admin's access key (the
//                    attacker), the app's key, the witness account's credentials as provisioned.
//   LedgerApplyOutput what apply() returns (session.studentOutputs.apply, checked by parseApplyOutput):
//                    claims only — trust.ts checks each against the lab cloud before pinning it.

/** Names the company already uses (provisioned). */
export const OPS_ADMIN = 'ops-admin';
export const APP_USER = 'northwind-app';
export const APP_LOG_GROUP = '/northwind/app/audit';
export const TRAIL_NAME = 'northwind-trail';
export const TRAIL_LOG_GROUP = '/northwind/cloudtrail';
export const TRAIL_LOG_ROLE = 'northwind-cloudtrail-logs';
export const RECORDS_PREFIX = 'customers/';

/** Names the student creates (the workbook asks for exactly these). */
export const FEED_FUNCTION = 'ledger-feed';
export const LEDGER_ROLE = 'ledger';
export const KEY_ALIAS = 'alias/ledger';
export const WITNESS_FUNCTION = 'ledger-witness';
/** The role in the witness account the ledger role assumes to invoke the witness. */
export const WITNESS_INVOKER_ROLE = 'ledger-witness-invoker';
/** Provisioned: the run-account user and the witness-account role that build the witness during apply(). */
export const WITNESS_DEPLOYER = 'witness-deployer';
export const WITNESS_DEPLOY_ROLE = 'northwind-witness-deploy';

/** The quiet period the checks judge (app traffic, no attack), and how far behind the ledger may be. */
export const QUIET_MINUTES = 30;
/** Every source event of the quiet period must have its entry within this much lab time. */
export const MAX_LAG_MS = 10 * 60_000;

export interface LedgerLabEnv {
  accountId: string;
  region: string;
  /** The checkpoint origin line the ledger must use (c2sp tlog-checkpoint). */
  origin: string;
  company: {
    /** Customer records, one object per customer under customers/. */
    dataBucket: string;
    recordsPrefix: string;
    /** The application (IAM user northwind-app) writes one JSON audit event per record access here. */
    app: { userName: string; logGroup: string };
  };
  trail: {
    name: string;
    arn: string;
    /** Versioned; log files under AWSLogs/<account>/CloudTrail/<region>/yyyy/mm/dd/, digests too. */
    bucket: string;
    /** CloudTrail delivers every event here too (the feed subscribes to it). */
    logGroup: string;
  };
  /** Versioned, empty: the ledger's tiles, entry bundles and checkpoint (c2sp tlog-tiles layout). */
  ledgerBucket: string;
  /** The administrator whose key the grader holds (the insider the ledger must catch). */
  opsAdmin: { userName: string; arn: string };
  /**
   * A second account for the witness. Student code works in the run account only (the sandbox refuses
   * another account's keys), so the way in is a role: the run-account user `deployer` may assume
   * `deployRoleArn` (AdministratorAccess in the witness account). The grader closes that door when
   * apply() has returned (the deployer's key deleted, the role's trust emptied): afterwards nobody of the
   * company's account, ops-admin included, can change the witness.
   */
  witnessAccount: { accountId: string; deployRoleArn: string; deployer: { userName: string; accessKeyId: string; secretAccessKey: string } };
  names: {
    feedFunction: string;
    ledgerRole: string;
    keyAlias: string;
    witnessFunction: string;
    witnessInvokerRole: string;
  };
  quiet: { minutes: number; maxLagMs: number };
}

export interface LedgerHidden {
  opsAdmin: { userName: string; accessKeyId: string; secretAccessKey: string };
  app: { userName: string; accessKeyId: string; secretAccessKey: string };
  /** The witness account's root credentials (the grader's; never given to student code). */
  witnessAccount: { accountId: string; accessKeyId: string; secretAccessKey: string };
  /** Record keys the app and the attacks use. */
  records: string[];
}

/** What the student's apply() returns: where things are and the trust roots it claims. */
export interface LedgerApplyOutput {
  origin: string;
  ledger: { bucket: string; prefix?: string };
  /** The signing key (KMS key id or ARN in the run account). */
  keyId: string;
  /** The log's vkey as the student computed it (informational: the grader derives its own). */
  logVkey?: string;
  witness: { accountId: string; functionName: string; roleArn: string; vkey: string };
  anchor: { bucket: string; prefix?: string };
  feed: { functionName: string };
}

export const HIDDEN_KEY = 'advanced-ledger';

export function ledgerEnv(session: { env: Record<string, unknown> }): LedgerLabEnv {
  return session.env as unknown as LedgerLabEnv;
}

export function ledgerHidden(session: { hidden: Record<string, unknown> }): LedgerHidden {
  const h = session.hidden[HIDDEN_KEY] as LedgerHidden | undefined;
  if (!h) throw new Error('lab advanced-ledger is not provisioned in this session (no hidden facts)');
  return h;
}

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 2048;

/** Validates apply()'s result; throws a message that tells the student what to return. */
export function parseApplyOutput(value: unknown): LedgerApplyOutput {
  const shape = "apply() must return { origin, ledger: { bucket, prefix? }, keyId, logVkey?, witness: { accountId, functionName, roleArn, vkey }, anchor: { bucket, prefix? }, feed: { functionName } }";
  if (!value || typeof value !== 'object') throw new Error(`${shape}; it returned ${value === undefined ? 'nothing' : typeof value}`);
  const v = value as Record<string, any>;
  const need = (ok: boolean, what: string) => { if (!ok) throw new Error(`${shape}: ${what} is missing or not a string`); };
  need(str(v.origin), 'origin');
  need(str(v.ledger?.bucket), 'ledger.bucket');
  need(v.ledger.prefix === undefined || typeof v.ledger.prefix === 'string', 'ledger.prefix');
  need(str(v.keyId), 'keyId');
  need(v.logVkey === undefined || str(v.logVkey), 'logVkey');
  need(str(v.witness?.accountId) && str(v.witness?.functionName) && str(v.witness?.roleArn) && str(v.witness?.vkey), 'witness.{accountId,functionName,roleArn,vkey}');
  need(str(v.anchor?.bucket), 'anchor.bucket');
  need(v.anchor.prefix === undefined || typeof v.anchor.prefix === 'string', 'anchor.prefix');
  need(str(v.feed?.functionName), 'feed.functionName');
  return {
    origin: v.origin,
    ledger: { bucket: v.ledger.bucket, ...(v.ledger.prefix ? { prefix: v.ledger.prefix } : {}) },
    keyId: v.keyId,
    ...(v.logVkey ? { logVkey: v.logVkey } : {}),
    witness: { accountId: v.witness.accountId, functionName: v.witness.functionName, roleArn: v.witness.roleArn, vkey: v.witness.vkey },
    anchor: { bucket: v.anchor.bucket, ...(v.anchor.prefix ? { prefix: v.anchor.prefix } : {}) },
    feed: { functionName: v.feed.functionName },
  };
}
