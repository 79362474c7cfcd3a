// The lab's company: Northwind Analytics' network. Names, address plans and traffic shared by the
// environment, the checks and the scenarios.
import type { CompanyProfile, Flow } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { PROTO, Rng, ephemeralPort } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { currentRandom, type Random } from '../../src/engine/random.ts';

export type Tier = 'web' | 'bastion' | 'app' | 'db' | 'sandbox';

export interface LabInstance {
  name: string;
  id: string;
  tier: Tier;
  vpc: 'sensitive' | 'sandbox';
  privateIp: string;
  publicIp?: string;
}

export interface Subnet {
  id: string;
  cidr: string;
  networkAclId: string;
}

export interface NetworkLabEnv {
  company: string;
  region: string;
  vpcs: {
    sensitive: { id: string; name: string; cidr: string; holds: string };
    sandbox: { id: string; name: string; cidr: string; holds: string };
  };
  subnets: { web: Subnet; app: Subnet; db: Subnet; sandbox: Subnet };
  securityGroups: { web: string; bastion: string; app: string; db: string; sandbox: string };
  instances: LabInstance[];
  /** The lowest rule number of the allow entries in the sensitive VPC's network ACLs. */
  firstAllowRule: number;
  /** Who is told about alarms. */
  admins: { email: string; phone: string };
  /** Contractors reach the bastion over SSH from these addresses (and from home, anywhere). */
  contractors: string[];
  ports: { web: number; app: number; db: number; ssh: number };
}

export const COMPANY = 'Northwind Analytics';
export const SENSITIVE_CIDR = '10.20.0.0/16';
export const SANDBOX_CIDR = '10.99.0.0/16';
export const FIRST_ALLOW_RULE = 100;
export const ADMINS = { email: 'secops@northwind.example', phone: '+15555550142' };
/** Where the company's customers browse from (documentation and benchmarking ranges). */
export const USER_NETWORKS = ['198.18.0.0/15', '198.51.100.0/24'];
export const CONTRACTORS = ['192.0.2.41', '192.0.2.87', '192.0.2.133'];
export const PORTS = { web: 443, app: 8080, db: 5432, ssh: 22 };

/** The instances and their fixed private addresses. */
export const INSTANCES: { name: string; tier: Tier; vpc: 'sensitive' | 'sandbox'; subnet: 'web' | 'app' | 'db' | 'sandbox'; privateIp: string; publicIp: boolean }[] = [
  { name: 'web-1', tier: 'web', vpc: 'sensitive', subnet: 'web', privateIp: '10.20.1.10', publicIp: true },
  { name: 'bastion', tier: 'bastion', vpc: 'sensitive', subnet: 'web', privateIp: '10.20.1.20', publicIp: true },
  { name: 'app-1', tier: 'app', vpc: 'sensitive', subnet: 'app', privateIp: '10.20.2.10', publicIp: false },
  { name: 'app-2', tier: 'app', vpc: 'sensitive', subnet: 'app', privateIp: '10.20.2.11', publicIp: false },
  { name: 'db-1', tier: 'db', vpc: 'sensitive', subnet: 'db', privateIp: '10.20.3.10', publicIp: false },
  { name: 'sandbox-1', tier: 'sandbox', vpc: 'sandbox', subnet: 'sandbox', privateIp: '10.99.1.10', publicIp: true },
];

export function instance(env: NetworkLabEnv, name: string): LabInstance {
  const i = env.instances.find((x) => x.name === name);
  if (!i) throw new Error(`no instance ${name} in the lab`);
  return i;
}

/**
 * A random attacker address, never one of the company's users, contractors, office or AWS ranges:
 * hosting and VPN ranges seen in abuse reports. Random per run (from the grading's seed) and never
 * shown to the student.
 */
export function randomRogueIp(avoid: string[] = [], rng: Random = currentRandom()): string {
  const prefixes = ['185.220.101', '45.155.205', '91.240.118', '193.142.146', '141.98.10', '5.188.206', '80.94.95', '62.102.148'];
  for (;;) {
    const ip = `${rng.pick(prefixes)}.${rng.int(2, 251)}`;
    if (!avoid.includes(ip)) return ip;
  }
}

/** The company's traffic profile for the data plane's generator: tiers are the instances in each tier's security group. */
export function profileOf(env: NetworkLabEnv): CompanyProfile {
  return {
    web: { securityGroupIds: [env.securityGroups.web] },
    app: { securityGroupIds: [env.securityGroups.app] },
    db: { securityGroupIds: [env.securityGroups.db] },
    webPort: env.ports.web, appPort: env.ports.app, dbPort: env.ports.db,
    webUsers: { perMinute: 60, networks: USER_NETWORKS, distinctUsers: 300 },
    webToAppRatio: 0.8,
    dbQueriesPerMinute: 40,
    // Bounded, as the workbook states: 18.1-19.9 MB to S3 within one minute, once an hour.
    backups: { everyMs: 60 * 60_000, firstAtMs: 5 * 60_000, bytes: 19_000_000, spread: 1.05 },
    updates: { everyMs: 30 * 60_000 },
  };
}

/** Contractors' SSH sessions to the bastion, and a developer's use of the sandbox, in a time range. */
export function sideTraffic(env: NetworkLabEnv, from: number, to: number, seed: string): Flow[] {
  const rng = new Rng(seed);
  const flows: Flow[] = [];
  const bastion = instance(env, 'bastion');
  const sandbox = instance(env, 'sandbox-1');
  // About one contractor session every two minutes: long, interactive, modest volumes.
  for (let t = from + rng.exp(120_000); t < to; t += rng.exp(120_000)) {
    const p = rng.int(40, 400);
    const start = Math.floor(t);
    flows.push({
      srcaddr: rng.pick(env.contractors), dstaddr: bastion.publicIp ?? bastion.privateIp, srcport: ephemeralPort(rng), dstport: env.ports.ssh,
      protocol: PROTO.TCP, packets: p, bytes: p * 90, response: { packets: p, bytes: p * 140 },
      start, end: Math.min(to - 1, start + rng.int(20_000, 55_000)), label: 'contractor-ssh',
    });
  }
  // The sandbox: a developer's test site, browsed a little.
  for (let t = from + rng.exp(30_000); t < to; t += rng.exp(30_000)) {
    const start = Math.floor(t);
    flows.push({
      srcaddr: `198.18.${rng.int(0, 255)}.${rng.int(1, 254)}`, dstaddr: sandbox.publicIp ?? sandbox.privateIp, srcport: ephemeralPort(rng, 'windows'), dstport: env.ports.web,
      protocol: PROTO.TCP, packets: 8, bytes: 1200, response: { packets: 10, bytes: 9000 },
      start, end: Math.min(to - 1, start + rng.int(200, 2000)), label: 'sandbox',
    });
  }
  return flows;
}
