// Grading beyond one machine: `seclab grade --submissions <dir> --shard i/n --seed <s> --out <dir>`
// grades share i of n of a class (src/engine/shard.ts says which), `seclab grade merge <dirs...>
// --out <dir>` verifies the n shard folders and writes the outputs one run over the whole class
// writes (grades.json, gradebook.csv, junit.xml, results/, feedback/, report.txt), from the shards'
// signed records. See docs/ci-grading.md.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Grade, Lab } from '../engine/types.ts';
import { gradeKey, type GradeKey } from '../engine/report/sign.ts';
import { renderClassText } from '../engine/report/text.ts';
import { mergeShards, parseShard, selectShard, SHARD_FILE, ShardError, writeShard, type ShardSpec } from '../engine/shard.ts';
import { CliError, EnvironmentError, ExitCode, UsageError } from './errors.ts';
import { parseFormats, renderOutputs, writeOutputs, type Format, type GradeOptions } from './grade.ts';
import type { Ui } from './ui.ts';

export interface ShardPlan {
  spec: ShardSpec;
  /** This shard's submissions out of the whole class (remembered for the manifest). */
  select<T extends { student: string }>(subs: T[]): T[];
  /** Writes grades.json and the signed shard.json next to the run's other outputs. */
  write(ui: Ui, dir: string, run: { grades: Grade[]; labs: Lab[]; seed: string; target: string; timeoutMs: number | undefined; formats: readonly string[]; version: string }): Promise<void>;
}

/** `--shard i/n` checked against the other options of `seclab grade` (usage errors before anything starts). */
export function shardOption(opts: GradeOptions): ShardPlan {
  const spec = parseShard(opts.shard ?? '');
  if (typeof spec === 'string') throw new UsageError(spec, 'e.g. seclab grade --submissions class --shard 1/4 --seed "$RUN_ID" --out shard-1');
  const example = `seclab grade --submissions class --shard ${spec.index}/${spec.count} --seed <seed> --out shard-${spec.index}`;
  if (!opts.submissions) throw new UsageError('--shard splits a class: it needs --submissions <dir>, not --workspace', example);
  if (!opts.out) throw new UsageError('--shard needs --out <dir>: the shard folder that `seclab grade merge` combines with the others', example);
  if (opts.seed === undefined) throw new UsageError('--shard needs --seed <seed>: every shard of a class must be graded with the same seed', `${example} (in CI, e.g. the pipeline's run id)`);
  let classNames: string[] = [];
  return {
    spec,
    select(subs) {
      classNames = subs.map((s) => s.student);
      return selectShard(subs, spec);
    },
    async write(ui, dir, run) {
      let key: GradeKey | undefined;
      try {
        key = gradeKey({ create: true });
      } catch {
        key = undefined; // the records are not signed either (seclab grade said why): the merge will refuse
      }
      const m = await writeShard(dir, { spec, ...run, classNames }, key);
      ui.info(`Shard ${spec.index}/${spec.count}: ${m.students.length} of ${classNames.length} submissions; ${SHARD_FILE} written (merge all ${spec.count} with: seclab grade merge <shard folders...> --out <dir>)`);
      if (key && key.source !== 'SECLAB_GRADE_KEY' && spec.count > 1) {
        ui.info(`  signed with this machine's grade key (${key.source}): shards graded on other machines need the same key, set SECLAB_GRADE_KEY for every shard and the merge`);
      }
    },
  };
}

export interface MergeOptions {
  out?: string;
  format?: string[];
  failUnder?: string;
  json?: boolean;
}

export async function cmdGradeMerge(ui: Ui, dirs: string[], opts: MergeOptions): Promise<number> {
  if (!dirs.length) throw new UsageError('which shard folders?', 'e.g. seclab grade merge shard-1 shard-2 shard-3 --out grades');
  if (!opts.out) throw new UsageError('grade merge needs --out <dir> for the merged outputs', 'e.g. seclab grade merge shard-* --out grades');
  const out = path.resolve(opts.out);
  const inputs = dirs.map((d) => path.resolve(d));
  if (inputs.includes(out) || existsSync(path.join(out, SHARD_FILE))) throw new UsageError(`--out ${opts.out} is a shard folder: the merged outputs go to a folder of their own`);
  let failUnder: number | undefined;
  if (opts.failUnder !== undefined) {
    failUnder = Number(opts.failUnder);
    if (!Number.isFinite(failUnder) || failUnder < 0 || failUnder > 100) throw new UsageError(`--fail-under must be a percentage between 0 and 100; got "${opts.failUnder}"`);
  }
  const override = parseFormats(opts.format);

  let key: GradeKey;
  try {
    key = gradeKey({ create: false });
  } catch (e) {
    throw new EnvironmentError((e as Error).message, 'Merge with the grade key the shards were signed with: set SECLAB_GRADE_KEY.');
  }
  let merged;
  try {
    merged = mergeShards(inputs, key);
  } catch (e) {
    if (e instanceof ShardError) throw e.kind === 'usage' ? new UsageError(e.message, e.hint) : new CliError(e.message, ExitCode.FAILED, e.hint);
    throw e;
  }
  const { manifest, grades } = merged;
  const formats: Format[] = override.length ? override : parseFormats(manifest.formats);
  const rendered = renderOutputs(grades, formats, manifest.labs, false);
  const written = await writeOutputs(out, rendered, grades, formats, false);
  ui.info(`Merged ${manifest.shard.count} shard(s): ${grades.length} submissions, seed ${manifest.seed}, labs ${manifest.labs.join(', ')}; wrote ${written.length} file(s) to ${out}`);

  if (opts.json) process.stdout.write(rendered.stdout.json ?? `${JSON.stringify(grades, null, 2)}\n`);
  else process.stdout.write(`${renderClassText(grades, { style: ui.out })}\n`);

  if (failUnder !== undefined) {
    const below = grades.filter((g) => g.percent < failUnder);
    if (below.length) {
      ui.error(`${below.length} of ${grades.length} below ${failUnder} %: ${below.slice(0, 10).map((g) => `${g.student} ${g.percent} %`).join(', ')}${below.length > 10 ? ', …' : ''}`);
      return ExitCode.FAILED;
    }
  }
  return ExitCode.OK;
}
