// Grades one lab for one workspace: provision -> snapshot -> student code -> posture checks ->
// scenarios (prepare, inject, observe, revert) -> business checks -> score. Everything is recomputed
// from the lab cloud; nothing in the workspace can raise a score except what it does to the cloud.
import path from 'node:path';
import type { LabCloud } from '../cloud/labcloud.ts';
import { LabSession } from './session.ts';
import { enterRandom, labSeed, newSeed, withRandom } from './random.ts';
import { runStudentCode } from './student-runner.ts';
import { escapingLinks } from './submission.ts';
import { withStatus } from './report/record.ts';
import { escapeDeep } from './report/escape.ts';
import { collectFunctions } from './report/lambda-debug.ts';
import type { AttackStep, CheckGrade, Lab, LabGrade, Scenario, ScenarioResult, StudentRun } from './types.ts';

export interface GradeEvents {
  phase?(name: string): void;
  check?(grade: CheckGrade): void;
  studentOutput?(line: string): void;
  /** A scenario is about to run (before prepare). */
  scenarioStart?(scenario: { id: string; title: string; description: string; techniques: string[]; hidden: boolean }): void;
  /** One attacker step of a scenario and what the lab cloud did with it (emitted as soon as inject returns). */
  attackStep?(scenarioId: string, step: AttackStep): void;
}

export interface GradeLabOptions {
  workspace: string;
  /** Per student export, ms. */
  timeoutMs?: number;
  /** Run only these scenarios (default all). */
  scenarios?: string[];
  /** Skip the student's code (grade the cloud as it was left, e.g. by hand with the AWS CLI). */
  skipStudentCode?: boolean;
  events?: GradeEvents;
  /**
   * The run's seed (any text): the lab's randomness is drawn from it and the lab id, so the same seed
   * grades the same work the same way. A new one is chosen when absent; the grade records it.
   */
  seed?: string;
}

/** Provisions a lab in a fresh account and returns the session (also used by `seclab start`). */
export async function provisionLab(cloud: LabCloud, lab: Lab, seed: string = newSeed()): Promise<LabSession> {
  const session = new LabSession(cloud, cloud.createAccount(), labSeed(seed, lab.id));
  await withRandom(session.random, async () => {
    session.env = await lab.provision(session);
    if (lab.snapshot) session.snapshot = await lab.snapshot(session);
  });
  return session;
}

/**
 * The lab's input to student code, and the environment its process gets: administrator credentials
 * of the account minted for this phase only (`revoke` ends them, so nothing the code leaves running
 * can act later), and the lab clock.
 */
export function studentContext(session: LabSession, lab: Lab): {
  input: unknown; env: Record<string, string>; clockFile?: string; revoke: () => void;
} {
  const cloud = session.cloud;
  const phase = session.gateway.mintRootCredentials(session.accountId);
  // A clock file of its own: what this code does to it reaches no other submission.
  const clock = session.gateway.clock.dir ? session.gateway.clock.mirror() : undefined;
  // MFA codes this code computes are checked against every lab time it can have read (see LabClock.observe).
  const observed = session.gateway.clock.observe(session.accountId);
  return {
    input: { lab: lab.id, accountId: session.accountId, region: cloud.region, endpoint: cloud.url, now: session.now(), env: session.env },
    env: { ...cloud.envFor(phase), SECLAB_CLOCK_OFFSET_MS: String(session.gateway.clock.offset()), SECLAB_LAB: lab.id },
    clockFile: clock?.file,
    revoke: () => {
      session.gateway.credentials.setStatus(phase.accessKeyId, 'Deleted');
      clock?.remove();
      observed.stop();
    },
  };
}

/**
 * Runs the student's exports for a lab in the session's account (sandboxed when the machine can),
 * with credentials for this phase only, and keeps what they returned in `session.studentOutputs`.
 */
export async function runStudentSteps(session: LabSession, lab: Lab, opts: { workspace: string; timeoutMs?: number; onOutput?: (line: string) => void }): Promise<StudentRun[]> {
  const cloud = session.cloud;
  const { input, env, clockFile, revoke } = studentContext(session, lab);
  const channel = cloud.sandbox === 'bwrap' ? await cloud.gateway.openChannel(session.accountId, 'your code') : undefined;
  const res = await runStudentCode({
    file: path.join(opts.workspace, lab.id, 'solution.ts'),
    exports: lab.studentSteps.map((s) => s.export),
    input, env, timeoutMs: opts.timeoutMs ?? lab.studentTimeoutMs, onOutput: opts.onOutput,
    sandbox: cloud.sandbox, gateway: { url: cloud.url, socketPath: channel?.socketPath }, clockFile,
  }).finally(async () => {
    revoke();
    await channel?.close();
  });
  const student = res.runs;
  for (const step of lab.studentSteps) {
    if (!(step.export in res.values)) continue;
    try {
      session.studentOutputs[step.export] = step.parse ? step.parse(res.values[step.export]) : res.values[step.export];
    } catch (e) {
      const run = student.find((r) => r.export === step.export);
      if (run) Object.assign(run, { ok: false, error: `${step.export}() returned something unexpected: ${(e as Error).message}` });
    }
  }
  return student;
}

export async function gradeLab(cloud: LabCloud, lab: Lab, opts: GradeLabOptions): Promise<LabGrade> {
  // Links that lead out of the submission (to the reference solution, another student's work) are
  // attempts to break isolation, whether or not the sandbox made them dangle.
  const links = escapingLinks(path.join(opts.workspace, lab.id));
  const g = await gradeLabOnce(cloud, lab, opts);
  const violations = [...links, ...(g.accountId ? cloud.gateway.violationsOf(g.accountId) : [])];
  return withStatus(escapeDeep(violations.length ? { ...g, violations } : g));
}

async function gradeLabOnce(cloud: LabCloud, lab: Lab, opts: GradeLabOptions): Promise<LabGrade> {
  const started = Date.now();
  const ev = opts.events ?? {};
  const checks: CheckGrade[] = [];
  const scenarios: CheckGrade[] = [];
  let student: StudentRun[] = [];
  // Why legitimate work counts as broken, in words that agree with what the student sees (a failed
  // legitimate-work line, or an attack during which legitimate work was refused); nothing hidden named.
  const broken: string[] = [];
  const why = () => broken.join('; ') || 'see the legitimate-work checks';
  ev.phase?.('provision');
  const seed = opts.seed ?? newSeed();
  const session = await provisionLab(cloud, lab, seed);
  session.workspace = opts.workspace;
  // Helpers that are not handed the session draw from its generator too (see currentRandom).
  enterRandom(session.random);
  try {
    if (!opts.skipStudentCode && lab.studentSteps.length) {
      ev.phase?.('student code');
      student = await runStudentSteps(session, lab, { workspace: opts.workspace, timeoutMs: opts.timeoutMs, onOutput: ev.studentOutput });
    }

    // The grader's own work (checks, attacks) holds the lab clock, which every grading on this lab
    // cloud shares: one grading at a time, the clock standing still but for its own advances and nobody
    // else moving it, so outcomes and lab times, to the millisecond, are the same on any machine, under
    // any load, beside any other grading. (Students' code runs meanwhile: only its clock moves wait.)
    await cloud.gateway.clock.exclusive(async () => {
      await session.alignClock();
      // Business first: whether legitimate work still succeeds decides what restrictive controls earn.
      ev.phase?.('business checks');
      const business = lab.checks.filter((c) => c.kind === 'business');
      for (const c of business) {
        const out = await c.run(session).catch((e: Error) => ({ passed: false, feedback: `the check could not run: ${e.message}` }));
        if (!out.passed) {
          session.businessBroken = true;
          broken.push(c.hidden ? 'a hidden legitimate-work check failed' : `"${c.title}" failed`);
        }
        const g: CheckGrade = { id: c.id, title: c.title, kind: 'business', passed: out.passed, points: 0, maxPoints: 0, hidden: !!c.hidden, feedback: out.feedback, task: c.task };
        checks.push(g);
        ev.check?.(g);
      }

      ev.phase?.('posture checks');
      for (const c of lab.checks.filter((x) => x.kind === 'posture')) {
        const out = await c.run(session).catch((e: Error) => ({ passed: false, feedback: `the check could not run: ${e.message}` }));
        const forfeited = out.passed && c.restrictive && session.businessBroken;
        const g: CheckGrade = {
          id: c.id, title: c.title, kind: 'posture', passed: out.passed && !forfeited,
          points: out.passed && !forfeited ? c.points : 0, maxPoints: c.points, hidden: !!c.hidden, task: c.task,
          feedback: forfeited ? `${out.feedback} — but legitimate work is broken (${why()}), so this control earns nothing` : out.feedback,
        };
        checks.push(g);
        ev.check?.(g);
      }

      ev.phase?.('attacks');
      // Scenarios start at the same point of the lab clock's cycle (capture windows, alarm periods, TOTP
      // steps, deliveries are aligned on the epoch), whatever the wall-clock moment.
      await session.alignClock();
      for (const s of lab.scenarios) {
        if (opts.scenarios && !opts.scenarios.includes(s.id)) continue;
        const max = s.points.blocked + (s.points.detected ?? 0);
        let result: ScenarioResult;
        ev.scenarioStart?.({ id: s.id, title: s.title, description: s.description, techniques: s.techniques, hidden: !!s.hidden });
        // Steps are reported as they happen (attempt() calls the session's hook).
        session.onAttackStep = (step) => ev.attackStep?.(s.id, step);
        let state: unknown;
        const intactBefore = !session.businessBroken;
        try {
          state = s.prepare ? await s.prepare(session) : undefined;
          const steps = await s.inject(session, state);
          result = await s.observe(session, steps, state);
        } catch (e) {
          result = { detected: false, blocked: false, steps: [], evidence: [], feedback: `the scenario could not run: ${(e as Error).message}` };
        }
        session.onAttackStep = undefined;
        // Undo what the attacker changed, whatever happened, so later scenarios meet the student's controls.
        await s.revert?.(session, state).catch(() => undefined);
        const intact = !session.businessBroken;
        // A scenario judges legitimate work too (traffic refused during the attack): say which attack.
        if (intactBefore && !intact) broken.push(s.hidden ? 'legitimate work was refused during a hidden attack' : `legitimate work was refused during the attack "${s.title}"`);
        let points = 0;
        if (intact) points = (result.blocked ? s.points.blocked : 0) + (result.detected ? s.points.detected ?? 0 : 0);
        const g: CheckGrade = {
          id: s.id, title: s.title, kind: 'scenario', passed: points === max, points, maxPoints: max, hidden: !!s.hidden,
          feedback: intact ? result.feedback : `${result.feedback} — legitimate work is broken (${why()}), so this attack earns nothing`,
          detected: result.detected, blocked: result.blocked, businessIntact: intact,
          timeToDetectMs: result.timeToDetectMs ?? null, timeToRespondMs: result.timeToRespondMs ?? null,
          techniques: s.techniques, steps: result.steps,
          graded: { blocked: s.points.blocked > 0, detected: (s.points.detected ?? 0) > 0 },
        };
        const task = scenarioTask(lab, s, g);
        if (task) g.task = task;
        scenarios.push(g);
        ev.check?.(g);
      }

      // Legitimate work must still succeed after the attacks (and after anything the student's code
      // left running): a control that breaks it later earns nothing either.
      ev.phase?.('business checks, after the attacks');
      for (const c of lab.checks.filter((x) => x.kind === 'business')) {
        const g = checks.find((x) => x.id === c.id && x.kind === 'business');
        if (!g?.passed) continue;
        const out = await c.run(session).catch((e: Error) => ({ passed: false, feedback: `the check could not run: ${e.message}` }));
        if (out.passed) continue;
        Object.assign(g, { passed: false, feedback: `after the attacks: ${out.feedback}` });
        session.businessBroken = true;
        broken.push(c.hidden ? 'a hidden legitimate-work check failed after the attacks' : `"${c.title}" failed after the attacks`);
      }

      // Posture checks the attacks put to the test (a responder wired to the alarm that throws when
      // invoked): what passed on the configuration alone fails now, with the reason.
      session.attacksRan = scenarios.length > 0;
      for (const c of lab.checks.filter((x) => x.kind === 'posture' && x.afterAttacks)) {
        const g = checks.find((x) => x.id === c.id && x.kind === 'posture');
        if (!g?.passed) continue;
        const out = await c.run(session).catch((e: Error) => ({ passed: false, feedback: `the check could not run: ${e.message}` }));
        if (out.passed) g.feedback = out.feedback;
        else Object.assign(g, { passed: false, points: 0, feedback: `after the attacks: ${out.feedback}` });
      }
    });
    if (session.businessBroken) {
      for (const g of checks) {
        const def = lab.checks.find((c) => c.id === g.id);
        if (def?.restrictive && g.points > 0) {
          Object.assign(g, { passed: false, points: 0, feedback: `${g.feedback} — but legitimate work is broken (${why()}), so this control earns nothing` });
        }
      }
      for (const g of scenarios) {
        if (g.businessIntact) Object.assign(g, { passed: false, points: 0, businessIntact: false, feedback: `${g.feedback} — legitimate work is broken (${why()}), so this attack earns nothing` });
      }
    }
  } catch (e) {
    const all = [...checks, ...scenarios];
    const score = all.reduce((a, c) => a + c.points, 0);
    return {
      id: lab.id, title: lab.title, score, maxScore: maxScore(lab), passed: false, checks, scenarios, student,
      accountId: session.accountId, seed, durationMs: Date.now() - started, error: (e as Error).message,
    };
  }
  const score = [...checks, ...scenarios].reduce((a, c) => a + c.points, 0);
  const max = maxScore(lab);
  const businessBroken = session.businessBroken ? { businessBroken: why() } : {};
  // Something failed: what the student's Lambda functions did (invocations, errors, log tails).
  const functions = score < max || student.some((r) => !r.ok) ? await collectFunctions(session).catch(() => []) : [];
  const extra = { ...businessBroken, ...(functions.length ? { functions } : {}) };
  // Results taken while the emulator was down say nothing about the student's work.
  const died = cloud.gateway.upstream.deathMessage;
  if (died) {
    return {
      id: lab.id, title: lab.title, score, maxScore: max, passed: false, checks, scenarios, student, accountId: session.accountId, seed,
      durationMs: Date.now() - started, error: `the lab cloud stopped during grading (${died}); this grade is incomplete: grade again`, ...extra,
    };
  }
  return { id: lab.id, title: lab.title, score, maxScore: max, passed: score === max, checks, scenarios, student, accountId: session.accountId, seed, durationMs: Date.now() - started, ...extra };
}

export function maxScore(lab: Lab): number {
  return lab.checks.reduce((a, c) => a + (c.kind === 'posture' ? c.points : 0), 0)
    + lab.scenarios.reduce((a, s) => a + s.points.blocked + (s.points.detected ?? 0), 0);
}

/**
 * The workbook task a failed attack points to (for `seclab hint`): of the outcomes it lost points on
 * (detection, blocking), the one whose task comes first in the lab; the lab's last task when the
 * scenario names none (the attacks come after every task). Undefined when it passed.
 */
export function scenarioTask(lab: Pick<Lab, 'tasks'>, s: Pick<Scenario, 'tasks' | 'points'>, g: Pick<CheckGrade, 'passed' | 'detected' | 'blocked' | 'businessIntact'>): string | undefined {
  if (g.passed) return undefined;
  const order = lab.tasks.map((t) => t.id);
  const lost: string[] = [];
  if (s.points.blocked > 0 && !g.blocked && s.tasks?.blocked) lost.push(s.tasks.blocked);
  if ((s.points.detected ?? 0) > 0 && !g.detected && s.tasks?.detected) lost.push(s.tasks.detected);
  const known = lost.filter((t) => order.includes(t)).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (known.length) return known[0];
  // Lost points for broken legitimate work only, or the scenario names no task: the last task.
  return g.businessIntact === false && (g.blocked || g.detected) ? undefined : order.at(-1);
}
