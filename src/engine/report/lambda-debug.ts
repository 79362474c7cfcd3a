// What the student's Lambda functions did during a grading, for debugging: per function, its
// invocations, the errors they ended in (a handler that threw TypeError on every invocation is named,
// with the message), the triggers its resource policy refused, and the tail of /aws/lambda/<name>.
// Collected by the grader when something failed (LabGrade.functions), rendered here for the terminal
// and the Markdown feedback.
import type { LabSession } from '../session.ts';
import type { FunctionDebug, LabGrade } from '../types.ts';
import { escapeControl } from './escape.ts';
import { PLAIN, type Style } from './style.ts';

/** Log lines kept per function (the last ones), and their width. */
export const LOG_TAIL_LINES = 8;
const LINE_CHARS = 300;
const ERROR_CHARS = 300;

interface Invocation {
  account: string;
  functionName: string;
  result: { functionError?: string; payload: unknown };
  at: number;
}

/** The error an invocation ended in, as Lambda reports it (errorType, errorMessage). */
export function invocationError(inv: Pick<Invocation, 'result'>): { type: string; message: string } | undefined {
  if (!inv.result.functionError) return undefined;
  const p = (inv.result.payload && typeof inv.result.payload === 'object' ? inv.result.payload : {}) as { errorType?: unknown; errorMessage?: unknown };
  return {
    type: typeof p.errorType === 'string' ? p.errorType : inv.result.functionError,
    // Without the request id (a timeout's message names it): the same error every time is one kind.
    message: (typeof p.errorMessage === 'string' ? p.errorMessage : JSON.stringify(inv.result.payload ?? null)).replace(/RequestId: [0-9a-f-]{36} /g, '').slice(0, ERROR_CHARS),
  };
}

/** Invocations and refused triggers of one function of the session's account, since `since` (lab ms). */
export function functionActivity(s: LabSession, functionName: string, since = 0): { invocations: Invocation[]; refusals: { service: string; reason: string }[] } {
  const rt = s.gateway.service('lambda');
  const same = (n: string) => n === functionName || n.endsWith(`:function:${functionName}`);
  return {
    invocations: rt.invocations.filter((i) => i.account === s.accountId && same(i.functionName) && i.at >= since),
    refusals: rt.refusals.filter((r) => r.account === s.accountId && same(r.functionName) && r.at >= since),
  };
}

function countBy<T>(items: T[], key: (t: T) => string): [string, T, number][] {
  const m = new Map<string, [T, number]>();
  for (const i of items) {
    const k = key(i);
    const e = m.get(k);
    if (e) e[1]++;
    else m.set(k, [i, 1]);
  }
  return [...m.entries()].map(([k, [t, n]]) => [k, t, n] as [string, T, number]).sort((a, b) => b[2] - a[2]);
}

/**
 * A runtime log line `<iso time>\t<request id>\t<LEVEL>\t<text>` as `LEVEL text`, on one line: the lab
 * clock's time and the request id say nothing the order of the lines does not (and differ between runs).
 */
export function compactLine(message: string): string {
  const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\t[0-9a-f-]{36}\t(\w+)\t([\s\S]*)$/.exec(message);
  const text = m ? `${m[1]} ${m[2]}` : message;
  return escapeControl(text.replace(/\s+/g, ' ')).slice(0, LINE_CHARS);
}

/** The last lines of a function's log group, without the runtime's START/END/REPORT lines. */
async function logTail(s: LabSession, name: string): Promise<string[]> {
  // Loaded here: reports that only render (text, feedback) need no SDK.
  const { CloudWatchLogsClient, FilterLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const logs = s.client(CloudWatchLogsClient);
  const lines: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const r = await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${name}`, nextToken })).catch(() => undefined);
    if (!r) break;
    for (const e of r.events ?? []) {
      const m = (e.message ?? '').replace(/\s+$/, '');
      if (!m || /^(START|END|REPORT) RequestId:/.test(m)) continue;
      // moto's own attempt to run the function in Docker (the lab cloud runs it itself): not the function's output.
      if (/^error running docker:/.test(m)) continue;
      lines.push(compactLine(m));
    }
    if (lines.length > 10 * LOG_TAIL_LINES) lines.splice(0, lines.length - LOG_TAIL_LINES);
    if (!r.nextToken || r.nextToken === nextToken) break;
    nextToken = r.nextToken;
  }
  return lines.slice(-LOG_TAIL_LINES);
}

/** Every Lambda function of the session's account (and any that was invoked), with what it did. */
export async function collectFunctions(s: LabSession): Promise<FunctionDebug[]> {
  const names = new Set<string>();
  const { LambdaClient, ListFunctionsCommand } = await import('@aws-sdk/client-lambda');
  const lambda = s.client(LambdaClient);
  let marker: string | undefined;
  for (let page = 0; page < 20; page++) {
    const r = await lambda.send(new ListFunctionsCommand({ Marker: marker })).catch(() => undefined);
    for (const f of r?.Functions ?? []) if (f.FunctionName) names.add(f.FunctionName);
    marker = r?.NextMarker;
    if (!marker) break;
  }
  const rt = s.gateway.service('lambda');
  for (const i of rt.invocations) if (i.account === s.accountId) names.add(i.functionName.split(':').pop()!);
  for (const r of rt.refusals) if (r.account === s.accountId) names.add(r.functionName.split(':').pop()!);
  await rt.settle().catch(() => undefined);
  const out: FunctionDebug[] = [];
  for (const name of [...names].sort()) {
    const { invocations, refusals } = functionActivity(s, name);
    const errors = invocations.map(invocationError).filter((e): e is { type: string; message: string } => !!e);
    out.push({
      name,
      invocations: invocations.length,
      errors: errors.length,
      errorKinds: countBy(errors, (e) => `${e.type}\n${e.message}`).map(([, e, count]) => ({ type: e.type, message: e.message, count })),
      refused: countBy(refusals, (r) => `${r.service}\n${r.reason}`).map(([, r, count]) => ({ service: r.service, reason: r.reason, count })),
      logTail: await logTail(s, name),
    });
  }
  return out;
}

const times = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Words in lines of at most `width` characters (a longer word is cut). */
function wrapWords(text: string, width: number): string[] {
  if (!Number.isFinite(width) || text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word;
    while (line.length > width) {
      lines.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** One function's summary, as lines (terminal and feedback share it). */
function functionLines(f: FunctionDebug, st: Style, width = Infinity): string[] {
  const fit = (text: string, indent: number) => (text.length + indent > width ? `${text.slice(0, Math.max(10, width - indent - 1))}…` : text);
  const ok = f.invocations - f.errors;
  const head = f.invocations
    ? `${f.name}: ${times(f.invocations, 'invocation')}, ${f.errors ? st.red(times(f.errors, 'error')) : st.green('no errors')}${f.errors && ok ? ` (${ok} ok)` : ''}`
    : `${f.name}: ${st.yellow('never invoked')}`;
  const out = [head];
  for (const e of f.errorKinds.slice(0, 3)) {
    const text = `${e.type}: ${escapeControl(e.message).replace(/\s+/g, ' ')}${e.count > 1 ? ` (×${e.count})` : ''}`;
    out.push(...wrapWords(text, width - 6).map((l, i) => `${i ? '    ' : '  '}${st.red(l)}`));
  }
  if (f.errorKinds.length > 3) out.push(st.dim(`  … and ${f.errorKinds.length - 3} other errors`));
  for (const r of f.refused.slice(0, 2)) {
    out.push(...wrapWords(`trigger refused ${times(r.count, 'time')}: ${escapeControl(r.reason)}`, width - 6).map((l, i) => `${i ? '    ' : '  '}${st.yellow(l)}`));
  }
  if (f.logTail.length) {
    out.push(st.dim(`  last lines of /aws/lambda/${f.name}:`));
    for (const l of f.logTail) out.push(st.dim(`    ${fit(l, 6)}`));
  } else {
    out.push(st.dim(`  /aws/lambda/${f.name} is empty${f.errors ? ' (the handler logged nothing: console.log what it receives and does)' : ''}`));
  }
  return out;
}

/**
 * The terminal section "Your Lambda functions" of a lab report, or nothing when the grade carries no
 * functions (everything passed, or the account has none).
 */
export function renderFunctionsText(lab: Pick<LabGrade, 'functions'>, st: Style = PLAIN, width = 80): string[] {
  if (!lab.functions?.length) return [];
  const out = ['', st.bold('Your Lambda functions') + st.dim(' (in this run)')];
  for (const f of lab.functions) out.push(...functionLines(f, st, width).map((l) => `  ${l}`));
  return out;
}

/** The same section in Markdown, for feedback files. */
export function renderFunctionsMarkdown(lab: Pick<LabGrade, 'functions'>): string[] {
  if (!lab.functions?.length) return [];
  const out = ['', '### Your Lambda functions', ''];
  for (const f of lab.functions) {
    const [head, ...rest] = functionLines(f, PLAIN);
    out.push(`- \`${f.name}\`${head!.slice(f.name.length)}`);
    if (rest.length) out.push('', '  ```', ...rest.map((l) => `  ${l.replace(/```/g, "'''")}`), '  ```');
  }
  return out;
}
