// Same work, same grade: grades each lab's reference solution and a few honest variants of it (which must keep
// full marks) N times each, every time while another grading of the same lab runs alongside on the same lab
// cloud, each with a fresh seed, and prints the scores. Every row must show one score and one outcome.
//
//   npx tsx bench/determinism.ts [--rounds 10] [--labs iam,network,siem]
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLabCloud } from '../src/cloud/labcloud.ts';
import { gradeLab } from '../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../src/engine/labs.ts';
import { newSeed } from '../src/engine/random.ts';
import type { LabGrade } from '../src/engine/types.ts';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const ROUNDS = Number(arg('rounds', '10'));
const LABS = arg('labs', 'iam,network,siem').split(',');

type Edit = [file: string, from: string, to: string];
interface Work { lab: string; name: string; edits: Edit[] }

/** Honest alternatives to the references (the labs' tests hold them to full marks too). */
const WORK: Work[] = [
  { lab: 'iam', name: 'reference', edits: [] },
  {
    lab: 'iam', name: 'audit by ARN, key id, user/policy, /32', edits: [
      ['solution.ts', 'overBroadPolicies.push(policyName);', 'overBroadPolicies.push(`${name}/${policyName}`);'],
      ['solution.ts', '  }).map(([key]) => userByKey.get(key)!);', '  }).map(([key]) => key);'],
      ['solution.ts', '    suspiciousSourceIps: [...suspicious],', '    suspiciousSourceIps: [...suspicious].map((ip) => `${ip}/32`),'],
    ],
  },
  { lab: 'network', name: 'reference', edits: [] },
  { lab: 'network', name: 'outbound alarm at 32 MB (just above the stated bound)', edits: [['solution.ts', 'threshold: 100_000_000', 'threshold: 32_000_000']] },
  { lab: 'network', name: 'flow logs per subnet', edits: [['solution.ts', "ResourceType: 'VPC', ResourceIds: [vpc.id],", "ResourceType: 'Subnet', ResourceIds: [env.subnets.web.id, env.subnets.app.id, env.subnets.db.id],"]] },
  {
    lab: 'network', name: 'responder stops the instance', edits: [
      ['solution.ts', "Action: 'ec2:ModifyInstanceAttribute'", "Action: 'ec2:StopInstances'"],
      ['responder/index.mjs', 'ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [QUARANTINE_GROUP] })', 'StopInstancesCommand({ InstanceIds: [instanceId] })'],
      ['responder/index.mjs', 'DescribeNetworkInterfacesCommand, ModifyInstanceAttributeCommand,', 'DescribeNetworkInterfacesCommand, StopInstancesCommand,'],
    ],
  },
  { lab: 'siem', name: 'reference', edits: [] },
  { lab: 'siem', name: 'aggressive dedup and throttling', edits: [['siem.yml', '  dedupWindow: 15m\n  throttle: { maxAlerts: 10, window: 1h }', '  dedupWindow: 24h\n  throttle: { maxAlerts: 1, window: 24h }']] },
];

/** A workspace holding the lab's reference with the edits applied (undefined when the reference no longer has the text). */
function workspaceFor(w: Work): string | undefined {
  if (!w.edits.length) return SOLUTIONS_DIR;
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-determinism-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(path.join(SOLUTIONS_DIR, w.lab), path.join(ws, w.lab), { recursive: true });
  for (const [file, from, to] of w.edits) {
    const p = path.join(ws, w.lab, file);
    const text = readFileSync(p, 'utf8');
    if (!text.includes(from)) return undefined;
    writeFileSync(p, text.replace(from, to));
  }
  return ws;
}

/** Everything a grade says about each check and attack, but for texts that carry per-run names. */
const outcome = (g: LabGrade) => JSON.stringify([g.score, g.error ?? null, ...[...g.checks, ...g.scenarios].map((c) => [c.id, c.passed, c.points, c.detected, c.blocked, c.timeToDetectMs, c.timeToRespondMs])]);

const cloud = await startLabCloud();
const rows: { lab: string; name: string; scores: number[]; outcomes: number; max: number; seconds: number }[] = [];
try {
  for (const w of WORK.filter((x) => LABS.includes(x.lab))) {
    const lab = await findLab(w.lab);
    const ws = workspaceFor(w);
    if (!ws) {
      console.error(`skipped ${w.lab} / ${w.name}: the reference changed (an edit no longer applies)`);
      continue;
    }
    const scores: number[] = [];
    const seen = new Set<string>();
    let max = 0;
    const t0 = Date.now();
    for (let r = 0; r < ROUNDS; r++) {
      // Another grading of the same lab alongside, on the same lab cloud and clock.
      const [g] = await Promise.all([
        gradeLab(cloud, lab, { workspace: ws, seed: newSeed() }),
        gradeLab(cloud, lab, { workspace: SOLUTIONS_DIR, seed: newSeed() }),
      ]);
      scores.push(g!.score);
      max = g!.maxScore;
      seen.add(outcome(g!));
      process.stderr.write(`${w.lab} / ${w.name}: round ${r + 1}: ${g!.score}/${g!.maxScore}${g!.error ? ` (${g!.error})` : ''}\n`);
    }
    rows.push({ lab: w.lab, name: w.name, scores, outcomes: seen.size, max, seconds: Math.round((Date.now() - t0) / 1000) });
    if (ws !== SOLUTIONS_DIR) rmSync(ws, { recursive: true, force: true });
  }
} finally {
  await cloud.stop();
}

console.log(`\n${ROUNDS} gradings each, each beside another grading of the same lab, a new seed every time\n`);
console.log('| lab | work | scores | distinct outcomes | wall time |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.lab} | ${r.name} | ${r.scores.join(', ')} (of ${r.max}) | ${r.outcomes} | ${r.seconds} s |`);
const bad = rows.filter((r) => r.outcomes !== 1 || new Set(r.scores).size !== 1);
console.log(bad.length ? `\n${bad.length} row(s) varied` : '\nevery row: one score, one outcome');
process.exitCode = bad.length ? 1 : 0;
