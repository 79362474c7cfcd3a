// Patterns students write, matched before (JavaScript RegExp, backtracking) and now (linear time: RE2 through
// re2js for regular expressions, the glob matcher of controls/patterns for wildcards):
//
//   npx tsx bench/patterns.ts [--json]
//
// Part 1, throughput on ordinary patterns and realistic values (matches per second, best of 5 rounds): what the
// linear engines cost on the common path. Part 2, adversarial patterns (ReDoS): time of one match as the value
// grows, before and now; "before" stops growing the value once one match takes over a second (sizes are chosen so that
// the last "before" run stays within seconds: each further step would take minutes to hours).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { compile as compileFilter } from '../src/cloud/services/logs/filter-pattern/index.ts';
import { compileAwsRegex } from '../src/cloud/services/logs/filter-pattern/regex.ts';
import { wildcardMatch, type WildcardMode } from '../src/cloud/policy/patterns.ts';
import { compileGlob, starParts } from '../src/controls/patterns/glob.ts';
import { compileLinearRegex } from '../src/controls/patterns/regex.ts';
import { compileParts, parseSigmaString } from '../src/controls/siem/sigma/strings.ts';

const { values: args } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const out: Record<string, unknown> = {};
const say = (s = '') => {
  if (!args.json) console.log(s);
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function rate(values: readonly string[], fn: (v: string) => boolean, rounds = 5): number {
  let hits = 0;
  for (const v of values) if (fn(v)) hits++; // warm up
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const v of values) if (fn(v)) hits++;
    best = Math.max(best, values.length / ((performance.now() - t0) / 1000));
  }
  return hits >= 0 ? best : 0;
}

function compare(section: string, label: string, values: readonly string[], before: (v: string) => boolean, now: (v: string) => boolean): void {
  for (const v of values.slice(0, 200)) {
    if (before(v) !== now(v)) throw new Error(`${label}: before and now disagree on ${JSON.stringify(v.slice(0, 80))}`);
  }
  const b = rate(values, before);
  const n = rate(values, now);
  say(`  ${label.padEnd(58)} ${fmt(b).padStart(12)} /s ${fmt(n).padStart(12)} /s  ${(n / b).toFixed(2).padStart(6)}×`);
  ((out[section] ??= {}) as Record<string, unknown>)[label] = { beforePerSecond: Math.round(b), nowPerSecond: Math.round(n) };
}

// ---- the implementations replaced (reproduced here as the baseline) ----

const escRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** Sigma wildcard values: the RegExp compileParts built. */
function sigmaGlobBefore(value: string, cased: boolean): (s: string) => boolean {
  let src = '^';
  for (const p of parseSigmaString(value)) {
    if (p.k === 'lit') src += escRe(p.s);
    else if (p.k === 'star') src += '[\\s\\S]*';
    else if (p.k === 'one') src += '[\\s\\S]';
    else src += `(?:${p.chars.map(escRe).join('|')})`;
  }
  const re = new RegExp(src + '$', cased ? '' : 'i');
  return (s) => re.test(s);
}

/** IAM wildcards: the RegExp patterns.ts built. */
function iamBefore(pattern: string, mode: WildcardMode, ignoreCase = false): (s: string) => boolean {
  const tokens = pattern.split(/([*?])/).filter((t) => t !== '');
  let src = '^';
  let colons = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t !== '*' && t !== '?') {
      src += escRe(t);
      colons += t.split(':').length - 1;
      continue;
    }
    const next = tokens[i + 1];
    const crosses = mode === 'glob' ? true : mode === 'arn' ? colons >= 5 : t === '*' && (next === undefined || (next !== '*' && next !== '?' && next.startsWith(':')));
    src += t === '*' ? (crosses ? '.*' : '[^:]*') : crosses ? '.' : '[^:]';
  }
  if (mode === 'arn' && colons < 5) return () => false;
  // Through two cache lookups, as the old wildcardMatch did (pattern, then mode and flags), so that both
  // columns include the same per-call overhead.
  const flags = ignoreCase ? 'is' : 's';
  const cache = new Map([[pattern, { regexes: new Map([[mode + flags, new RegExp(src + '$', flags)]]) }]]);
  return (s) => cache.get(pattern)!.regexes.get(mode + flags)!.test(s);
}

// ---- data ----

const N = 100_000;
const logLines = Array.from({ length: N }, (_, i) =>
  i % 3 === 0
    ? `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z [ERROR ${400 + (i % 5)}] request ${i} from 203.0.113.${i % 250} failed: AccessDenied`
    : `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z [INFO 200] request ${i} from 198.51.100.${i % 250} served in ${i % 900} ms`,
);
const arns = Array.from({ length: N }, (_, i) =>
  i % 4 === 0 ? `arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0${(i * 7919).toString(16).padStart(16, '0')}` : `arn:aws:iam::111122223333:user/dev-${i % 40}-team`,
);
const keys = Array.from({ length: N }, (_, i) => `arn:aws:s3:::northwind-data-${i % 3}/customers/${i % 50}/export-${i}.csv`);
const commandLines = Array.from({ length: N }, (_, i) => (i % 5 === 0 ? `C:\\Windows\\System32\\cmd.exe /c whoami /all ${i}` : `C:\\Program Files\\App\\app.exe --run task-${i} --verbose`));

// ---- part 1: ordinary patterns ----

say('Ordinary patterns: matches per second, before (RegExp)  now (linear)  ratio');
say(' CloudWatch Logs %regex% (the expression alone, per log event)');
for (const src of ['\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}', '[Ee]rror|[Ff]ail', 'ERROR 40[0-9]', '^2026-01-01T\\d\\d:\\d\\d:\\d\\dZ \\[INFO', 'served in [0-9]{3} ms$']) {
  const now = compileAwsRegex(src);
  const before = new RegExp(now.source, 's');
  compare('cloudwatchRegex', `%${src}%`, logLines, (v) => before.test(v), (v) => now.test(v));
}
say(' Sigma re (field value)');
for (const [src, flags, values] of [
  ['.+:assumed-role/aws:.+', '', arns],
  [':assumed-role/[^/]+/i-[0-9a-fA-F]{8,17}$', '', arns],
  ['^(arn:aws[a-z-]*:iam::)?\\d{12}(:|$)', '', arns],
  ['cmd\\.exe.*whoami', 'i', commandLines],
] as const) {
  const now = compileLinearRegex(src, { ignoreCase: flags.includes('i') });
  const before = new RegExp(src, flags);
  compare('sigmaRe', `${src}${flags ? ` (${flags})` : ''}`, values, (v) => before.test(v), (v) => now.test(v));
}
say(' Sigma wildcard values (case-insensitive)');
for (const [value, values] of [
  ['arn:aws:iam::*:user/dev-*-team', arns],
  ['*\\System32\\cmd.exe*whoami*', commandLines],
  ['C:\\Program Files\\*\\app.exe --run task-?1*', commandLines],
] as const) {
  const now = compileParts(parseSigmaString(value), false);
  compare('sigmaWildcard', value, values, sigmaGlobBefore(value, false), now);
}
say(' IAM wildcards (Resource, ArnLike, Action)');
const ctx = new Map<string, string>();
for (const [pattern, mode, values] of [
  ['arn:aws:s3:::northwind-data-1/*', 'resource', keys],
  ['arn:aws:s3:::northwind-data-?/customers/1*/export-*.csv', 'resource', keys],
  ['arn:aws:iam::*:user/dev-1*-team', 'resource', arns],
  ['arn:aws:iam::111122223333:*', 'arn', arns],
  ['arn:aws:*:*:111122223333:*/dev-*', 'arn', arns],
] as const) {
  compare('iam', `${pattern} (${mode})`, values, iamBefore(pattern, mode), (v) => wildcardMatch(pattern, v, mode, ctx, false));
}
const actions = Array.from({ length: N }, (_, i) => ['s3:GetObject', 's3:PutObject', 'iam:ListUsers', 'ec2:DescribeInstances', 'kms:Decrypt'][i % 5]!);
compare('iam', 's3:Get* (Action, case-insensitive)', actions, iamBefore('s3:Get*', 'glob', true), (v) => wildcardMatch('s3:Get*', v, 'glob', ctx, false, true));

// ---- part 2: adversarial patterns ----

function once(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** "before" never runs on values longer than this: the next sizes would take minutes to years. */
const BEFORE_MAX = 1000;

/** Time of one match for growing values; "before" stops once a match takes over a second. */
function adversarial(label: string, sizes: readonly number[], value: (n: number) => string, before: (v: string) => boolean, now: (v: string) => boolean): void {
  say(`  ${label}`);
  const rows: Array<{ n: number; beforeMs?: number; nowMs: number }> = [];
  let stop = false;
  for (const n of sizes) {
    const v = value(n);
    const b = stop || n > BEFORE_MAX ? undefined : once(() => before(v));
    if (b !== undefined && b > 1000) stop = true;
    const w = once(() => now(v));
    rows.push({ n, beforeMs: b, nowMs: w });
    say(`    n=${String(n).padStart(7)}  before ${b === undefined ? '  (not run: hours)' : `${b.toFixed(1).padStart(10)} ms`}   now ${w.toFixed(2).padStart(8)} ms`);
  }
  ((out['adversarial'] ??= {}) as Record<string, unknown>)[label] = rows;
}

say('');
say('Adversarial patterns: one match, before (RegExp) and now (linear)');
{
  const now = compileLinearRegex('^(a+)+$');
  const before = /^(a+)+$/;
  adversarial('Sigma re ^(a+)+$ on "a"×n + "!"', [16, 20, 24, 26, 50_000], (n) => 'a'.repeat(n) + '!', (v) => before.test(v), (v) => now.test(v));
}
{
  const now = compileLinearRegex('(a|aa)*b');
  const before = /(a|aa)*b/;
  adversarial('Sigma re (a|aa)*b on "a"×n', [20, 25, 30, 34, 50_000], (n) => 'a'.repeat(n), (v) => before.test(v), (v) => now.test(v));
}
{
  const now = compileFilter('%a*a*a*a*a*a*b%');
  const before = new RegExp(compileAwsRegex('a*a*a*a*a*a*b').source, 's');
  adversarial('CloudWatch %a*a*a*a*a*a*b% on "a"×n', [10, 20, 30, 40, 50_000], (n) => 'a'.repeat(n), (v) => before.test(v), (v) => now.test(v));
}
{
  const value = '*a*a*a*a*a*a*b';
  const now = compileParts(parseSigmaString(value), false);
  adversarial(`Sigma wildcard ${value} on "a"×n`, [20, 30, 40, 50, 50_000], (n) => 'a'.repeat(n), sigmaGlobBefore(value, false), now);
}
{
  const pattern = 'arn:aws:s3:::bucket/*a*a*a*a*a*a*b';
  adversarial(`IAM Resource ${pattern} on a key of "a"×n`, [20, 30, 40, 50, 50_000], (n) => `arn:aws:s3:::bucket/${'a'.repeat(n)}`, iamBefore(pattern, 'resource'), (v) =>
    wildcardMatch(pattern, v, 'resource', ctx, false),
  );
}
{
  const pattern = 'arn:aws:iam::111122223333:user/*a*a*a*a*a*b';
  adversarial(`IAM Resource ${pattern} (no colon crossing) on "a"×n + ":b"`, [20, 40, 60, 50_000], (n) => `arn:aws:iam::111122223333:user/${'a'.repeat(n)}:b`, iamBefore(pattern, 'resource'), (v) =>
    wildcardMatch(pattern, v, 'resource', ctx, false),
  );
}
{
  const now = compileGlob(starParts('sel*a*a*a*a*a*a*b'));
  const before = new RegExp('^sel.*a.*a.*a.*a.*a.*a.*b$');
  adversarial('Sigma condition identifier sel*a*a*a*a*a*a*b', [20, 30, 40, 50, 50_000], (n) => `sel${'a'.repeat(n)}`, (v) => before.test(v), now);
}

if (args.json) console.log(JSON.stringify(out, null, 2));
