// The lab's company: Northwind Analytics. Names and addresses the environment, the checks and the
// scenarios share.
import { OFFICE_CIDR } from '../../src/engine/session.ts';
import { currentRandom, type Random } from '../../src/engine/random.ts';

export interface IamLabEnv {
  company: string;
  officeCidr: string;
  people: { name: string; role: 'admin' | 'developer' | 'analyst'; officeIp: string; needs: string }[];
  sharedUser: string;
  buckets: { customerData: string; artifacts: string; reports: string };
  objects: { customers: string; artifact: string; report: string };
}

export const ADMIN = 'alice';
export const DEVELOPERS = ['ben', 'chloe'];
export const ANALYST = 'dan';
export const SHARED_USER = 'dev-team';
/** Prefix of the analyst's planted policy; a random suffix per run. */
export const OVERBROAD_POLICY = 'analyst-full-access';
export const SHARED_POLICY = 'DevTeamAccess';

export function companyEnv(runId: string): IamLabEnv {
  return {
    company: 'Northwind Analytics',
    officeCidr: OFFICE_CIDR,
    people: [
      { name: ADMIN, role: 'admin', officeIp: '203.0.113.10', needs: 'administers the account; the only person who may read customer data' },
      { name: 'ben', role: 'developer', officeIp: '203.0.113.21', needs: 'deploys build artifacts to the artifacts bucket' },
      { name: 'chloe', role: 'developer', officeIp: '203.0.113.37', needs: 'deploys build artifacts to the artifacts bucket' },
      { name: ANALYST, role: 'analyst', officeIp: '203.0.113.50', needs: 'reads reports in the reports bucket' },
    ],
    sharedUser: SHARED_USER,
    buckets: { customerData: `nw-customer-data-${runId}`, artifacts: `nw-artifacts-${runId}`, reports: `nw-reports-${runId}` },
    objects: { customers: 'exports/customers.csv', artifact: 'releases/app-1.4.2.zip', report: 'finance/q3-revenue.csv' },
  };
}

export function person(env: IamLabEnv, name: string) {
  const p = env.people.find((x) => x.name === name);
  if (!p) throw new Error(`no person ${name} in the lab`);
  return p;
}

/**
 * A random public IPv4 address outside the office: any /8 that is not private, loopback, multicast,
 * reserved or a documentation range, so nobody can list the candidates.
 */
export function randomRogueIp(rng: Random = currentRandom()): string {
  const excluded = new Set([0, 10, 100, 127, 169, 172, 192, 198, 203, 224]);
  let first: number;
  do first = rng.int(1, 222);
  while (excluded.has(first));
  const b = () => rng.int(0, 255);
  return `${first}.${b()}.${b()}.${rng.int(1, 254)}`;
}
