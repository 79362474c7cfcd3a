// The grading model: what a lab, a check and a scenario are, and what a grade says about them.
import type { LabSession } from './session.ts';

export type CheckKind = 'posture' | 'scenario' | 'business';

export interface CheckOutcome {
  passed: boolean;
  /** One or two lines for the student: what was found and, when it failed, what to do. */
  feedback: string;
}

export interface Check {
  id: string;
  title: string;
  kind: 'posture' | 'business';
  /** Points when passed; business checks carry none (they gate, see `restrictive`). */
  points: number;
  /** Hidden checks count but their title and feedback are left out of student-facing output. */
  hidden?: boolean;
  /**
   * A restrictive control (least privilege, MFA enforcement) earns nothing when the business is
   * broken: denying everything would satisfy it trivially.
   */
  restrictive?: boolean;
  /** Which task of the workbook it belongs to (for hints and the menu). */
  task?: string;
  /**
   * Run again after the attacks (a posture check whose truth the attacks reveal, such as a responder
   * that is wired but throws when invoked): passing before and failing then, it earns nothing and
   * says why.
   */
  afterAttacks?: boolean;
  run(session: LabSession): Promise<CheckOutcome>;
}

/** One API call or flow an attacker made, and what the lab cloud did with it. */
export interface AttackStep {
  description: string;
  /** Allowed by the lab cloud (the attacker got what they wanted). */
  allowed: boolean;
  /** The error code when refused (AccessDenied, InvalidClientTokenId...). */
  errorCode?: string;
  /** Lab-clock time of the step. */
  at: number;
}

export interface ScenarioResult {
  detected: boolean;
  blocked: boolean;
  /** Lab-clock milliseconds from the first attack step to the first detection signal. */
  timeToDetectMs?: number;
  timeToRespondMs?: number;
  steps: AttackStep[];
  /** What the detection was (alert, denied events in CloudTrail, audit finding...). */
  evidence: string[];
  feedback: string;
}

export interface Scenario {
  id: string;
  title: string;
  description: string;
  /** MITRE ATT&CK technique ids. */
  techniques: string[];
  /** Detections that would catch it (GuardDuty finding types, Sigma rule titles). */
  detections?: string[];
  /** Points for blocking it, and for detecting it when the lab grades detection. */
  points: { blocked: number; detected?: number };
  hidden?: boolean;
  /**
   * The workbook tasks that build what detects and what blocks this attack: when it gets through,
   * `seclab hint` follows the task of the first outcome that failed (in the lab's task order).
   */
  tasks?: { detected?: string; blocked?: string };
  /** Sets up the attacker's foothold (a leaked key...). Returns state for the other phases. */
  prepare?(session: LabSession): Promise<unknown>;
  /** Real calls through the gateway with the attacker's credentials and a simulated source IP. */
  inject(session: LabSession, state: unknown): Promise<AttackStep[]>;
  /** Looks for detection and response signals until a deadline. */
  observe(session: LabSession, steps: AttackStep[], state: unknown): Promise<ScenarioResult>;
  revert?(session: LabSession, state: unknown): Promise<void>;
}

export interface Task {
  id: string;
  title: string;
  hints: string[];
}

/** A piece of student code the lab runs, in its own process, with the lab's credentials. */
export interface StudentStep {
  /** Export of `<workspace>/<lab>/solution.ts` to call. */
  export: string;
  /** Validates and normalizes what it returned; throws with a message for the student. */
  parse?(value: unknown): unknown;
}

export interface Lab {
  id: string;
  slide: number;
  title: string;
  summary: string;
  objectives: string[];
  /** Absolute path of the workbook page (Markdown). */
  workbook: string;
  /** Absolute path of the starter folder copied by `seclab init`. */
  starter: string;
  tasks: Task[];
  /** Builds the environment in the run's account; returns facts the student and checks use. */
  provision(session: LabSession): Promise<Record<string, unknown>>;
  /** Student code to run, in order, after provisioning. */
  studentSteps: StudentStep[];
  /**
   * How long the student's code may run per step when the user sets no --timeout (default 60 s): a lab
   * whose solution does heavy work (lab advanced trains a model) needs more on a loaded machine.
   */
  studentTimeoutMs?: number;
  /** Captured between provisioning and the student's code (e.g. the planted findings). */
  snapshot?(session: LabSession): Promise<Record<string, unknown>>;
  checks: Check[];
  scenarios: Scenario[];
  /**
   * The company's normal activity (no attack) for `minutes` of lab time, moving the lab clock
   * (`seclab simulate`): what the student's metric filters, alarms and rules see on an ordinary day.
   */
  normalActivity?(session: LabSession, minutes: number, onMinute?: (minute: number) => void): Promise<ActivityReport>;
}

/** What a lab's normal activity produced besides metrics and alarms (which the engine reads itself). */
export interface ActivityReport {
  /** SIEM rules that matched, with how often (hits) and how many alerts they raised. */
  rules?: { rule: string; level: string; alerts: number; hits: number; firstAt?: number }[];
  /**
   * Counting correlation rules (event_count, value_count): the largest count normal activity reached in
   * one window of the rule's timespan, for one group (`group`: its group-by values), and the rule's condition.
   */
  correlations?: { rule: string; type: string; timespanMs: number; condition: string; max: number; group?: string }[];
  /** Why a part could not be observed (the SIEM configuration did not load...). */
  notes?: string[];
}

// ---- grade records (the JSON format documented in the README) ----

export interface CheckGrade {
  id: string;
  title: string;
  kind: CheckKind;
  passed: boolean;
  points: number;
  maxPoints: number;
  hidden: boolean;
  feedback: string;
  task?: string;
  /** For scenarios. */
  detected?: boolean;
  blocked?: boolean;
  businessIntact?: boolean;
  timeToDetectMs?: number | null;
  timeToRespondMs?: number | null;
  techniques?: string[];
  steps?: AttackStep[];
  /** Which outcomes of the scenario earn points (a lab may grade detection only, or blocking only). */
  graded?: { blocked: boolean; detected: boolean };
}

export interface StudentRun {
  export: string;
  ok: boolean;
  durationMs: number;
  /** Compile error, exception with file:line, timeout... */
  error?: string;
}

export interface LabGrade {
  id: string;
  title: string;
  score: number;
  maxScore: number;
  passed: boolean;
  checks: CheckGrade[];
  scenarios: CheckGrade[];
  student: StudentRun[];
  accountId: string;
  /** The run's seed the lab's randomness came from (`seclab grade --seed` grades the same way again). */
  seed?: string;
  durationMs: number;
  /** Set when the lab could not be graded at all (the lab cloud died...). */
  error?: string;
  /**
   * What happened to the submission's code, for instructors: graded, crashed, timed out, did not
   * compile, isolation violation (an attempt to leave the sandbox or the account, see `violations`),
   * not graded (see `error`).
   */
  status?: LabStatus;
  /** file:line of a crash, the first compile error, or the first violation. */
  statusDetail?: string;
  /** Attempts to break isolation that the sandbox or the gateway refused. */
  violations?: string[];
  /**
   * The account's Lambda functions (the student's responders) when something failed: invocations,
   * errors, refused triggers and the tail of each log group (src/engine/report/lambda-debug.ts).
   */
  functions?: FunctionDebug[];
  /**
   * Why legitimate work counts as broken, when it does: legitimate-work checks that failed, or
   * legitimate work refused during an attack (then every legitimate-work check may pass and still
   * restrictive controls and attacks earn nothing). Names no hidden check or attack.
   */
  businessBroken?: string;
}

export type LabStatus = 'graded' | 'crashed' | 'timed out' | 'did not compile' | 'isolation violation' | 'not graded';

export interface Grade {
  tool: 'seclab';
  version: string;
  student: string;
  workspace: string;
  target: string;
  startedAt: string;
  score: number;
  maxScore: number;
  percent: number;
  labs: LabGrade[];
  /** The run's seed: every random choice of the grading came from it (`seclab grade --seed <seed>` reproduces it). */
  seed?: string;
  /** HMAC over the rest of the record, so edited grade files are detected. */
  signature?: string;
}

/** One Lambda function of a graded account, for debugging (see LabGrade.functions). */
export interface FunctionDebug {
  name: string;
  invocations: number;
  /** Invocations that ended in an error (the handler threw, timed out, could not load). */
  errors: number;
  /** Distinct errors, most frequent first: type, message, how many times. */
  errorKinds: { type: string; message: string; count: number }[];
  /** Triggers the function's resource policy refused (a missing lambda AddPermission). */
  refused: { service: string; reason: string; count: number }[];
  /** The last lines of /aws/lambda/<name>. */
  logTail: string[];
}
