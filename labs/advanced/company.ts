// Lab advanced (slide 16), part 1: Northwind Analytics six months after lab network. The same network
// (labs/network), now with VPC flow logs on the production VPC, a data bucket the application servers
// read through an instance role, a developer with an access key, fourteen days of normal traffic kept
// as flow-log files, a threat feed and a contracted vulnerability scanner. Names and constants shared
// by provisioning, the checks, the scenarios and the student's side (starter, workbook, solution).
import type { CompanyProfile } from '../../src/cloud/services/ec2/dataplane/index.ts';
import type { Random } from '../../src/engine/random.ts';
import type { NetworkLabEnv } from '../network/company.ts';

export { COMPANY, ADMINS, PORTS, FIRST_ALLOW_RULE, instance } from '../network/company.ts';

/** The flow log the company already has: production VPC, ALL traffic, 60 s, CloudWatch Logs. */
export const FLOW_LOG_GROUP = '/northwind/vpc-flow-logs';
export const FLOW_LOG_ROLE = 'northwind-flow-logs-delivery';
/** The application servers' instance role (app-1 and app-2). */
export const INSTANCE_ROLE = 'northwind-app';
export const INSTANCE_PROFILE = 'northwind-app';
/** The developer whose key the threat-list login uses. */
export const DEVELOPER = 'dana';
export const BASELINE_PREFIX = 'baseline/';
export const BASELINE_DAYS = 14;
export const MODEL_KEY = 'anomaly/model.json';
export const INTEL_KEY = 'intel/northwind-threats.txt';
export const ANOMALY_SOURCE = 'northwind.anomaly';
export const ANOMALY_DETAIL_TYPE = 'Network Anomaly';
/** The quiet day before the attacks: normal traffic only, this many hours. */
export const QUIET_HOURS = 24;
/** Anomaly events + unarchived GuardDuty findings the quiet day may raise. */
export const QUIET_BUDGET = 3;
/**
 * GuardDuty's learning period in this lab (behaviour baselines): the quiet day. The detector is created
 * by the student before it, so behaviour findings (TrafficVolumeUnusual...) can come during the attacks.
 */
export const GUARDDUTY_LEARNING_MS = QUIET_HOURS * 3600_000;
/** Held-back evaluation of the model: days, ROC-AUC floor, alert rate on normal windows. */
export const EVALUATION_DAYS = 2;
export const MIN_ROC_AUC = 0.9;
export const MAX_NORMAL_ALERT_RATE = 0.03;

/**
 * The company's traffic in this lab: the data plane's generator with lab network's tiers, at the volume
 * of a B2B analytics product (a few customers' dashboards: two page views a minute), so fourteen days
 * of flow-log files stay about 40 MB and a model trains on them in seconds.
 */
export function advancedProfile(env: NetworkLabEnv): CompanyProfile {
  return {
    web: { securityGroupIds: [env.securityGroups.web] },
    app: { securityGroupIds: [env.securityGroups.app] },
    db: { securityGroupIds: [env.securityGroups.db] },
    webPort: env.ports.web, appPort: env.ports.app, dbPort: env.ports.db,
    webUsers: { perMinute: 2, networks: ['198.18.0.0/15', '198.51.100.0/24'], distinctUsers: 120 },
    webToAppRatio: 0.8,
    dbQueriesPerMinute: 2,
    backups: { everyMs: 60 * 60_000, firstAtMs: 5 * 60_000, bytes: 19_000_000, spread: 1.05 },
    updates: { everyMs: 30 * 60_000 },
  };
}

/** Ranges a contracted scanner (Qualys-like) scans from; the lab's scanner is one address in them. */
const SCANNER_PREFIXES = ['64.39.96', '64.39.97', '64.39.98', '64.39.99'];

export function scannerIp(rng: Random): string {
  return `${rng.pick(SCANNER_PREFIXES)}.${rng.int(10, 250)}`;
}

export interface AdvancedLabEnv extends NetworkLabEnv {
  accountId: string;
  flowLogs: { groupName: typeof FLOW_LOG_GROUP; flowLogId: string; format: 'v2 default' };
  /** Customer data (objects under customers/). */
  dataBucket: string;
  /** Attached to app-1 and app-2: s3:GetObject and s3:ListBucket on the data bucket. */
  instanceRole: { name: typeof INSTANCE_ROLE; arn: string; profileArn: string };
  developer: { userName: typeof DEVELOPER; accessKeyId: string };
  /** Fourteen days of the company's normal traffic as flow-log files (v2 default, one object a day). */
  baseline: { bucket: string; prefix: typeof BASELINE_PREFIX; days: number; keys: string[] };
  /** Where the student stores the trained model (the format of `seclab anomaly train`). */
  artifacts: { bucket: string; modelKey: typeof MODEL_KEY };
  /** The company's threat feed (TXT, one address per line) for a GuardDuty ThreatIntelSet. */
  threatIntel: { bucket: string; key: typeof INTEL_KEY };
  /** The contracted scanner: scans web-1 and the bastion daily; its findings must be archived, never acted on. */
  knownScanner: { ip: string; name: string };
  /** What the student's detector puts on the default event bus for each alert. */
  anomalyEvents: { source: typeof ANOMALY_SOURCE; detailType: typeof ANOMALY_DETAIL_TYPE };
  /** False alerts (anomaly events + unarchived GuardDuty findings) the quiet day may raise. */
  quietDay: { hours: number; budget: number };
}

/** What only the grader knows (session.hidden.advanced). */
export interface AdvancedHidden {
  /** The C2 server (on the threat feed) and the address the threat-list login comes from (on it too). */
  c2Ip: string;
  threatLoginIp: string;
  /** Seed of the held-back evaluation days. */
  evaluationSeed: string;
}

export const advancedEnv = (env: Record<string, unknown>): AdvancedLabEnv => env as unknown as AdvancedLabEnv;
export const advancedHidden = (hidden: Record<string, unknown>): AdvancedHidden => hidden['advanced'] as AdvancedHidden;
