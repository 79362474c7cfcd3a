// A botnet guesses passwords over SSH against Fabrikam Travel's web server, from an address outside
// the office: root, the image's default user `debian`, each admin, the usual names (admin, ubuntu,
// test) and any other account that has a password. Judged against the host's own configuration (the
// instance's sshd_config with its drop-ins and Match blocks, /etc/passwd, /etc/shadow, /etc/group)
// with labs/host/ssh.ts: a user whom a password could log in is a user the botnet can eventually get.
// The security group (SSH from the office only) is recorded as defence in depth, not counted: a rule
// changed on a busy day, a VPN address, an office laptop with malware, and sshd is all that is left.
import { rogueIp } from './lib/host-cloud.ts';
import { EC2Client, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import { RootFs } from '../src/controls/cis/rootfs.ts';
import { hostEnv } from '../labs/host/company.ts';
import { hostOf, webInstance, NO_SERVER } from '../labs/host/server.ts';
import { account, accounts, passwordLogin, sshdFor, type Verdict } from '../labs/host/ssh.ts';
import { nothingToAttack, step } from './lib/host-web.ts';

/** Where the botnet node connects from (TEST-NET-2: never the office). */
export const BOTNET_ADDRESS = '198.51.100.23';
export const COMMON_NAMES = ['admin', 'ubuntu', 'test'];

export interface BruteForceAttempt {
  user: string;
  /** Why this name is on the botnet's list. */
  why: string;
  verdict: Verdict;
}

/** The names the botnet tries on this root, in order, each once. */
export function botnetUsers(root: string | RootFs, admins: string[]): { user: string; why: string }[] {
  const fs = typeof root === 'string' ? new RootFs(root) : root;
  const out: { user: string; why: string }[] = [];
  const add = (user: string, why: string) => { if (!out.some((u) => u.user === user)) out.push({ user, why }); };
  add('root', 'the superuser');
  add('debian', "the image's default user");
  for (const a of admins) add(a, 'an administrator');
  for (const n of COMMON_NAMES) add(n, 'a common name');
  // Botnets' lists are long: any other account that has a password is on one of them.
  for (const n of accounts(fs)) {
    const a = account(fs, n);
    if (a?.password && /^\$/.test(a.password)) add(n, 'an account with a password');
  }
  return out;
}

/** Every guess judged against the root's sshd and accounts. */
export function bruteForce(root: string | RootFs, admins: string[], address = BOTNET_ADDRESS): BruteForceAttempt[] {
  const fs = typeof root === 'string' ? new RootFs(root) : root;
  return botnetUsers(fs, admins).map(({ user, why }) => ({ user, why, verdict: passwordLogin(fs, user, address) }));
}

export function judgeBruteForce(steps: AttackStep[], attempts: BruteForceAttempt[], extra: { evidence?: string[] } = {}): ScenarioResult {
  const open = attempts.filter((a) => a.verdict.ok);
  const blocked = attempts.length > 0 && open.length === 0;
  const evidence = [
    ...attempts.map((a) => `${a.user} (${a.why}): ${a.verdict.ok ? 'PASSWORD LOGIN POSSIBLE' : 'refused'}: ${a.verdict.reasons.join('; ')}`),
    ...(extra.evidence ?? []),
  ];
  if (blocked) {
    return { detected: false, blocked, steps, evidence, feedback: `blocked: sshd lets no password in for any of the ${attempts.length} names the botnet tried (${attempts.map((a) => a.user).join(', ')})` };
  }
  return {
    detected: false, blocked, steps, evidence,
    feedback: `not blocked: a password could log in over SSH as ${open.map((a) => `${a.user} (${a.verdict.reasons.join(', ')})`).join('; ')} — in a drop-in read first (/etc/ssh/sshd_config.d/10-*.conf, before 50-cloud-init.conf): PasswordAuthentication no, KbdInteractiveAuthentication no, PermitRootLogin no; and ssh_pwauth: false in the user data`,
  };
}

interface State { attempts?: BruteForceAttempt[]; evidence?: string[]; error?: string }

/** What the security groups of the instance say about port 22 (defence in depth). */
async function sshIngress(s: LabSession, groupIds: string[]): Promise<string> {
  if (!groupIds.length) return 'the instance has no security group';
  try {
    const out = await s.client(EC2Client).send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }));
    const sources: string[] = [];
    for (const g of out.SecurityGroups ?? []) {
      for (const p of g.IpPermissions ?? []) {
        const all = p.IpProtocol === '-1';
        const covers22 = all || (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= 22 && (p.ToPort ?? 65535) >= 22);
        if (!covers22) continue;
        for (const r of p.IpRanges ?? []) sources.push(`${r.CidrIp} (${g.GroupId})`);
        for (const r of p.Ipv6Ranges ?? []) sources.push(`${r.CidrIpv6} (${g.GroupId})`);
        for (const r of p.UserIdGroupPairs ?? []) sources.push(`group ${r.GroupId} (${g.GroupId})`);
      }
    }
    return sources.length ? `security groups let SSH in from ${sources.join(', ')}` : 'the security groups let no SSH in';
  } catch (e) {
    return `the security groups could not be read: ${(e as Error).message}`;
  }
}

export const sshPasswordBruteForceScenario: Scenario = {
  id: 'ssh-password-brute-force',
  title: 'Password brute force over SSH against the host configuration',
  description: "A botnet guesses passwords over SSH for root, the image's default user debian, the admins and common names (admin, ubuntu, test), from an address outside the office. Judged on the host's sshd configuration and accounts: the security group is defence in depth, sshd must refuse passwords by itself.",
  techniques: ['T1110.001', 'T1110.003', 'T1021.004', 'T1078.003'],
  detections: ['GuardDuty: UnauthorizedAccess:EC2/SSHBruteForce', 'auth.log: many "Failed password" lines from one address (fail2ban sshd jail)', 'Sigma: Failed Logins with Different Accounts from Single Source System'],
  points: { blocked: 10 },
  tasks: { blocked: 'launch' },
  async prepare(): Promise<State> {
    return {};
  },
  async inject(s: LabSession, state): Promise<AttackStep[]> {
    const st = state as State;
    const env = hostEnv(s.env);
    const w = await webInstance(s);
    if (!w) {
      st.error = NO_SERVER(s);
      return [];
    }
    let root: string;
    try {
      root = (await hostOf(s, w.instance.InstanceId!)).root;
    } catch (e) {
      st.error = `the web server's host could not be built: ${(e as Error).message}`;
      return [];
    }
    const fs = new RootFs(root);
    if (!fs.exists('/etc/ssh/sshd_config')) {
      st.error = 'the instance has no /etc/ssh/sshd_config (is openssh-server installed?)';
      return [];
    }
    // The botnet's address is drawn from the seed: a Match block for one known address must not pass.
    const address = rogueIp(s);
    const attempts = bruteForce(fs, env.admins.map((a) => a.user), address);
    const cfg = sshdFor(fs, { user: 'root', address });
    st.attempts = attempts;
    st.evidence = [
      `${await sshIngress(s, (w.instance.SecurityGroups ?? []).map((g) => g.GroupId!).filter(Boolean))}; the office is ${env.office} — defence in depth only, the host configuration is judged`,
      `MaxAuthTries ${cfg.settings.maxauthtries} (${cfg.evidence.maxauthtries}): guesses per connection`,
    ];
    return attempts.map((a) => step(s, `guess passwords for ${a.user} over SSH from ${address}`, a.verdict.ok, a.verdict.ok ? undefined : 'PasswordRefused'));
  },
  async observe(_s, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    if (st.error || !st.attempts) return nothingToAttack('the SSH password brute force', st.error ?? 'the attack did not run', steps);
    return judgeBruteForce(steps, st.attempts, { evidence: st.evidence ?? [] });
  },
};
