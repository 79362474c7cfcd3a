// Grading a course at scale, as an instructor runs it (`seclab grade` in child processes):
//   1. the whole course for one student: every lab, the reference solutions (solutions/);
//   2. a class of N submissions × every lab, graded by one process (the baseline), then split in
//      n shards graded by n processes at once on this machine, then merged (`seclab grade merge`);
//      printed as a table with the speed-up over the baseline, and a check that the merged outputs
//      are the baseline's (apart from what differs between any two runs: times, account and run ids).
// Every 4th student hands in the starters (they score 0 and their attacks go through), the others
// the reference solutions.
//
//   npx tsx bench/class.ts [--class 100] [--shards 2] [--concurrency 2] [--labs iam,network,siem] [--no-control] [--keep]
//   npm run bench:class -- --class 10
//
// --shards is a comma list of shard counts to measure after the baseline (default 2: on 2 cores). A
// control row follows each: one process grading as many students at once as the n shards did in total
// (--concurrency × n), to tell what sharding adds over more concurrency on one lab cloud.
// Wall-clock numbers depend on the machine and its load (printed); no threshold is checked here.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Grade } from '../src/engine/types.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'seclab.js');
const SOLUTIONS = path.join(ROOT, 'solutions');

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const CLASS = Number(arg('class', '100'));
const SHARDS = arg('shards', '2').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 2);
const CONCURRENCY = arg('concurrency', '2');
const LABS = arg('labs', readdirSync(SOLUTIONS, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).join(',')).split(',');
const KEEP = process.argv.includes('--keep');
if (!Number.isInteger(CLASS) || CLASS < 1) throw new Error('--class must be a whole number ≥ 1');

const work = mkdtempSync(path.join(os.tmpdir(), 'seclab-bench-class-'));
const env = { ...process.env, SECLAB_GRADE_KEY: randomBytes(16).toString('hex'), NO_COLOR: '1' };
const SEED = 'bench-class';

interface Run { code: number | null; ms: number; log: string }

/** `seclab <args>` in a child process; its output goes to a log file. */
function seclab(args: string[], log: string): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => {
    writeFileSync(log, out);
    resolve({ code, ms: performance.now() - t0, log });
  }));
}

function must(r: Run, what: string): Run {
  if (r.code !== 0) {
    process.stderr.write(readFileSync(r.log, 'utf8').split('\n').slice(-30).join('\n'));
    throw new Error(`${what} failed (exit ${r.code}); log: ${r.log}`);
  }
  return r;
}

const fmt = (ms: number) => (ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** What differs between any two gradings with the same seed (see test/cli/shard.test.ts). */
function normalize(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<time>')
    .replace(/"(durationMs|at)": \d+/g, '"$1": <n>')
    .replace(/time="[\d.]+"/g, 'time="<s>"')
    .replace(/\(\) \d+(?:\.\d+)? (?:ms|s|min)(?: \d+ s)?/g, '() <duration>') // report.html: "audit() 1.2 s"
    .replace(/\b([a-z]+)-[0-9a-f]{17}\b/g, '$1-<id>') // resource ids the emulator makes (fl-…, i-…, vpc-…)
    .replace(/\b54\.214\.\d{1,3}\.\d{1,3}\b/g, '<public-ip>') // public addresses the emulator gives instances
    .replace(/\b\d{12}\b/g, '<account>')
    .replace(/-[0-9a-f]{8}\b/g, '-<run>')
    .replace(/hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}/g, '<signature>');
}

function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

/** Files whose normalized text differs between two output folders. */
function differences(a: string, b: string): string[] {
  const fa = files(a);
  const fb = files(b);
  const out = [...fa.filter((f) => !fb.includes(f)), ...fb.filter((f) => !fa.includes(f))];
  for (const f of fa.filter((x) => fb.includes(x))) {
    if (normalize(readFileSync(path.join(a, f), 'utf8')) !== normalize(readFileSync(path.join(b, f), 'utf8'))) out.push(f);
  }
  return out;
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  console.log(`seclab class benchmark: ${CLASS} submissions × labs ${LABS.join(', ')}; ${cores} cores (${os.cpus()[0]?.model ?? '?'}); load average ${load()}`);
  console.log(`work folder ${work}\n`);

  // 1. The whole course for one student.
  const course = must(await seclab(['grade', '--workspace', SOLUTIONS, '--lab', LABS.join(','), '--seed', SEED, '--out', path.join(work, 'course'), '--format', 'json'], path.join(work, 'course.log')), 'grading the course');
  const g = JSON.parse(readFileSync(path.join(work, 'course', 'grades.json'), 'utf8')) as Grade;
  console.log('1. The whole course for one student (reference solutions), one `seclab grade --workspace` run:');
  console.log(table(['lab', 'score', 'grading'], [
    ...g.labs.map((l) => [l.id, `${l.score}/${l.maxScore}`, fmt(l.durationMs)]),
    ['all (wall, lab cloud start included)', `${g.score}/${g.maxScore}`, fmt(course.ms)],
  ]));
  if (g.score !== g.maxScore) console.log('   ! the reference solutions did not score full marks');

  // 2. The class.
  const classDir = path.join(work, 'class');
  for (let k = 1; k <= CLASS; k++) {
    const dir = path.join(classDir, `s${String(k).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
    for (const lab of LABS) {
      const from = k % 4 === 0 ? path.join(ROOT, 'labs', lab, 'starter', lab) : path.join(SOLUTIONS, lab);
      cpSync(from, path.join(dir, lab), { recursive: true });
    }
  }
  const common = ['--lab', LABS.join(','), '--seed', SEED, '--concurrency', CONCURRENCY];
  console.log(`\n2. A class of ${CLASS} (${CLASS - Math.floor(CLASS / 4)} reference, ${Math.floor(CLASS / 4)} starters) × ${LABS.length} labs, --concurrency ${CONCURRENCY} per process:`);

  const baselineOut = path.join(work, 'n1');
  console.log(`   n = 1: one process (the baseline)… load average ${load()}`);
  const base = must(await seclab(['grade', '--submissions', classDir, ...common, '--out', baselineOut], path.join(work, 'n1.log')), 'the baseline');
  const rows: string[][] = [['1 (no shard: baseline)', '1', fmt(base.ms), '—', fmt(base.ms), '1.00×', '100 %', (CLASS / (base.ms / 60_000)).toFixed(1), '—']];
  const perStudent = base.ms / CLASS;

  for (const n of SHARDS) {
    console.log(`   n = ${n}: ${n} processes at once, one shard each, then merge… load average ${load()}`);
    const dirs = Array.from({ length: n }, (_, i) => path.join(work, `n${n}`, `shard-${i + 1}`));
    const t0 = performance.now();
    const runs = await Promise.all(dirs.map((d, i) => seclab(['grade', '--submissions', classDir, ...common, '--shard', `${i + 1}/${n}`, '--out', d], `${d}.log`)));
    runs.forEach((r, i) => must(r, `shard ${i + 1}/${n}`));
    const gradeMs = performance.now() - t0;
    const mergedOut = path.join(work, `n${n}`, 'merged');
    const merge = must(await seclab(['grade', 'merge', ...dirs, '--out', mergedOut], path.join(work, `n${n}`, 'merge.log')), `merging ${n} shards`);
    const total = gradeMs + merge.ms;
    const diff = differences(baselineOut, mergedOut);
    const speedup = base.ms / total;
    rows.push([
      String(n), String(n), fmt(gradeMs), fmt(merge.ms), fmt(total), `${speedup.toFixed(2)}×`, `${Math.round((speedup / n) * 100)} %`,
      (CLASS / (total / 60_000)).toFixed(1), diff.length ? `✘ ${diff.slice(0, 3).join(', ')}` : '✔',
    ]);
    console.log(`     slowest shard ${fmt(Math.max(...runs.map((r) => r.ms)))}, fastest ${fmt(Math.min(...runs.map((r) => r.ms)))}`);
    if (diff.includes('grades.json')) {
      const scores = (dir: string) => new Map((JSON.parse(readFileSync(path.join(dir, 'grades.json'), 'utf8')) as Grade[]).map((x) => [x.student, x]));
      const a = scores(baselineOut);
      for (const [student, m] of scores(mergedOut)) {
        const b = a.get(student);
        if (b?.score !== m.score) console.log(`     ! ${student}: ${b?.score} in the baseline, ${m.score} merged: ${[...(b?.labs ?? []), ...m.labs].map((l) => l.statusDetail).filter(Boolean).join(' | ').slice(0, 300)}`);
      }
    }
  }

  // The control: as many gradings at once in ONE process (one lab cloud) as the n shards ran in total.
  if (!process.argv.includes('--no-control')) {
    for (const n of SHARDS) {
      const c = Number(CONCURRENCY) * n;
      console.log(`   control: one process, --concurrency ${c} (as many gradings at once as ${n} shards)… load average ${load()}`);
      const out = path.join(work, `c${c}`);
      const r = must(await seclab(['grade', '--submissions', classDir, ...common.slice(0, -2), '--concurrency', String(c), '--out', out], path.join(work, `c${c}.log`)), `--concurrency ${c}`);
      const diff = differences(baselineOut, out);
      const speedup = base.ms / r.ms;
      rows.push([`1, --concurrency ${c}`, '1', fmt(r.ms), '—', fmt(r.ms), `${speedup.toFixed(2)}×`, '—', (CLASS / (r.ms / 60_000)).toFixed(1), diff.length ? `✘ ${diff.slice(0, 3).join(', ')}` : '✔']);
    }
  }

  console.log(`\n${table(['shards n', 'processes', 'grading', 'merge', 'total', 'speed-up', 'per process', 'students/min', 'same outputs as n = 1'], rows)}`);
  console.log(`\nload average at the end ${load()} (other work on this machine slows every row alike only if it is steady)`);
  console.log(`baseline: ${fmt(perStudent)} per student (all ${LABS.length} labs) at --concurrency ${CONCURRENCY}; one student alone: ${fmt(course.ms)}`);
  if (CLASS !== 100) {
    console.log(`estimate for a class of 100 at the baseline's rate: ${fmt(perStudent * 100)} (one process)${rows.slice(1).map((r) => `, ${fmt((perStudent * 100) / Number(r[5]!.replace('×', '')))} with ${/^\d+$/.test(r[0]!) ? `${r[0]} shards` : `one process at ${r[0]!.replace(/^1, /, '')}`}`).join('')}`);
  }
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  if (!KEEP) console.error(`(work folder kept for the logs: ${work})`);
  process.exitCode = 1;
});
