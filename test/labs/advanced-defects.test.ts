// Lab advanced: seeded defects of the reference solution, each of which must lose what its defect
// opens — the checks, the attacks or the business — and not the rest. (Reference and starter:
// advanced.test.ts.) Five full graded runs (about 14 minutes on two loaded cores): beside the rest of the
// suite they starved other lab tests of time, so they run on request: SECLAB_HEAVY_TESTS=1 npm test.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();

/** Grades a workspace whose advanced/ folder is the reference with each [from, to] replaced in `file`. */
async function gradeVariant(edits: [file: string, from: string, to: string][]): Promise<LabGrade> {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'seclab-advanced-defect-'));
  writeFileSync(path.join(ws, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
  cpSync(path.join(SOLUTIONS_DIR, 'advanced'), path.join(ws, 'advanced'), { recursive: true });
  for (const [file, from, to] of edits) {
    const p = path.join(ws, 'advanced', file);
    const text = readFileSync(p, 'utf8');
    expect(text, `${file} should contain ${from}`).toContain(from);
    writeFileSync(p, text.split(from).join(to));
  }
  return gradeLab(cloud(), await findLab('advanced'), { workspace: ws, seed: 'advanced-defects' });
}

/** Points lost per check against the reference graded with the same seed. */
let reference: LabGrade | undefined;
async function lostAgainstReference(g: LabGrade): Promise<string[]> {
  if (!reference) {
    reference = await gradeLab(cloud(), await findLab('advanced'), { workspace: SOLUTIONS_DIR, seed: 'advanced-defects' });
    console.log(`reference (seed advanced-defects) ${reference.score}/${reference.maxScore}: ${detail(reference) || 'nothing lost'}`);
  }
  const ref = new Map([...reference.checks, ...reference.scenarios].map((c) => [c.id, c.points]));
  return [...g.checks, ...g.scenarios].filter((c) => c.points < (ref.get(c.id) ?? 0)).map((c) => c.id).sort();
}
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');
const scenario = (g: LabGrade, id: string) => g.scenarios.find((s) => s.id === id)!;

describe.skipIf(!process.env['SECLAB_HEAVY_TESTS'])('lab advanced, seeded defects', () => {
  it('no suppression filter for the contracted scanner: its daily probes of web-1 and the bastion come out as GuardDuty findings — the quiet day goes over its budget, the filter check is lost; the attacks are still detected and contained', async () => {
    const g = await gradeVariant([['solution.ts', '  await suppressScanner(gd, DetectorId!, env.knownScanner);\n', '']]);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(await lostAgainstReference(g), detail(g)).toEqual(['quiet-day', 'scanner-suppressed']);
    expect(scenario(g, 'quiet-day').feedback).toMatch(/too noisy: .*PortProbeUnprotectedPort/);
    const unarchived = (x: LabGrade) => Number(/(\d+) unarchived GuardDuty finding/.exec(scenario(x, 'quiet-day').feedback)?.[1]);
    expect(unarchived(g), scenario(g, 'quiet-day').feedback).toBeGreaterThan(unarchived(reference!));
    for (const id of ['slow-exfiltration', 'ddos-burst', 'c2-beaconing', 'port-scan', 'threat-list-login']) expect(scenario(g, id), detail(g)).toMatchObject({ detected: true, blocked: true });
  }, 1_800_000);

  it('a responder that isolates the instance of every GuardDuty finding: the port scan\'s probe takes web-1 down, the business is broken', async () => {
    const g = await gradeVariant([['responder/index.mjs',
      'if (INSTANCE_ACTOR.some((r) => r.test(type)) && outbound && instanceId && remotes.some(blockable)) actions.push(await isolate(instanceId));',
      'if (instanceId) actions.push(await isolate(instanceId));']]);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.businessBroken, detail(g)).toBeTruthy();
    expect(detail(g)).toMatch(/web-1|web tier/);
    expect(await lostAgainstReference(g), detail(g)).toEqual(expect.arrayContaining(['port-scan', 'responder-least-privilege']));
  }, 1_800_000);

  it('a threshold set far too low (20 % false positives, every anomalous minute reported): the quiet day drowns in anomaly events and the model fails its held-back evaluation', async () => {
    const g = await gradeVariant([
      ['solution.ts', 'const FALSE_POSITIVE_RATE = 0.01;', 'const FALSE_POSITIVE_RATE = 0.2;'],
      ['detector/index.mjs', 'const CONFIRM = Number(env.CONFIRM_WINDOWS ?? 3);', 'const CONFIRM = 1;'],
    ]);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(await lostAgainstReference(g), detail(g)).toEqual(expect.arrayContaining(['model-held-back', 'quiet-day']));
    expect(scenario(g, 'quiet-day').feedback).toMatch(/too noisy: \d+ anomaly events/);
    expect(g.checks.find((c) => c.id === 'model-held-back')!.feedback).toMatch(/of normal windows/);
  }, 1_800_000);

  it('no ThreatIntelSet: the login with dana\'s key from a threat-feed address is neither detected nor contained; nothing else is lost', async () => {
    const g = await gradeVariant([['solution.ts', '  await loadThreatFeed(gd, DetectorId!, env.threatIntel);\n', '']]);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(await lostAgainstReference(g), detail(g)).toEqual(['threat-list', 'threat-list-login']);
    expect(scenario(g, 'threat-list-login')).toMatchObject({ detected: false, blocked: false });
    // GuardDuty's own intelligence and the model still see the C2 server
    expect(scenario(g, 'c2-beaconing')).toMatchObject({ detected: true, blocked: true });
  }, 1_800_000);
});
