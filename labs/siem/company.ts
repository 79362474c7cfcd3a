// The lab's company: Northwind Analytics, the account its security team wires a SIEM to. Names, addresses and
// people that the environment, the background activity, the checks and the scenarios share.
import { OFFICE_CIDR } from '../../src/engine/session.ts';
import { currentRandom, type Random } from '../../src/engine/random.ts';

export interface SiemLabEnv {
  company: string;
  region: string;
  officeCidr: string;
  /** Who must be told about alerts. */
  admins: { email: string; phone: string };
  people: { name: string; role: 'admin' | 'developer' | 'analyst'; officeIp: string; does: string }[];
  /** The orders application's IAM user and the address its calls come from (the NAT gateway). */
  app: { user: string; egressIp: string };
  /** The SIEM's integration user (read-only on logs, sns:Publish): the grader runs your SIEM with its key. */
  siemUser: string;
  buckets: { customerData: string; reports: string; artifacts: string };
  vpc: { id: string; name: string; cidr: string; instances: { name: string; id: string; privateIp: string; publicIp?: string; tier: 'web' | 'app' | 'db' }[] };
  /** Application log groups (written by the CloudWatch agent on the instances). */
  logGroups: { app: string; bastion: string };
}

export const COMPANY = 'Northwind Analytics';
export const ADMIN = 'alice';
export const DEVELOPER = 'ben';
export const ANALYST = 'dan';
export const APP_USER = 'orders-app';
export const SIEM_USER = 'siem';
export const APP_EGRESS_IP = '198.51.100.20';
export const ADMINS = { email: 'secops@northwind.example', phone: '+15555550142' };
export const VPC_CIDR = '10.30.0.0/16';
export const LOG_GROUPS = { app: '/northwind/app/orders', bastion: '/northwind/bastion/secure' };
/** Objects of the customer-data bucket: exports the attackers want, and the configuration the app reads. */
export const EXPORTS = Array.from({ length: 48 }, (_, i) => `exports/customers-${String(i + 1).padStart(3, '0')}.csv`);
export const APP_CONFIG = ['config/pricing.json', 'config/regions.json', 'config/features.json', 'config/tax-rates.json'];
export const INSTANCES = [
  { name: 'web-1', tier: 'web' as const, subnet: '10.30.1.0/24', privateIp: '10.30.1.10' },
  { name: 'app-1', tier: 'app' as const, subnet: '10.30.2.0/24', privateIp: '10.30.2.10' },
  { name: 'db-1', tier: 'db' as const, subnet: '10.30.3.0/24', privateIp: '10.30.3.10' },
];

export function companyEnv(runId: string, region: string): Omit<SiemLabEnv, 'vpc'> {
  return {
    company: COMPANY,
    region,
    officeCidr: OFFICE_CIDR,
    admins: ADMINS,
    people: [
      { name: ADMIN, role: 'admin', officeIp: '203.0.113.10', does: 'administers the account (console with MFA, and the CLI)' },
      { name: DEVELOPER, role: 'developer', officeIp: '203.0.113.21', does: 'publishes build artifacts' },
      { name: ANALYST, role: 'analyst', officeIp: '203.0.113.50', does: 'reads reports; has a console password' },
    ],
    app: { user: APP_USER, egressIp: APP_EGRESS_IP },
    siemUser: SIEM_USER,
    buckets: { customerData: `nw-customer-data-${runId}`, reports: `nw-reports-${runId}`, artifacts: `nw-artifacts-${runId}` },
    logGroups: LOG_GROUPS,
  };
}

export function person(env: Pick<SiemLabEnv, 'people'>, name: string) {
  const p = env.people.find((x) => x.name === name);
  if (!p) throw new Error(`no person ${name} in the lab`);
  return p;
}

/** An attacker address: hosting and VPN ranges seen in abuse reports, never the office, the app or AWS. */
export function randomRogueIp(rng: Random = currentRandom()): string {
  const prefixes = ['185.220.101', '45.155.205', '91.240.118', '193.142.146', '141.98.10', '5.188.206', '80.94.95'];
  return `${rng.pick(prefixes)}.${rng.int(2, 251)}`;
}
