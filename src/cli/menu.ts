// `seclab` in a terminal: the interactive menu (inquirer). Labs with progress; inside a lab its
// workbook page, then check, hint, attack, watch, reset, env, and the solution once passed. One lab
// cloud is started on the first action that needs it and kept until the menu closes.
import os from 'node:os';
import path from 'node:path';
import { select, Separator } from '@inquirer/prompts';
import { loadProgress } from '../engine/progress.ts';
import type { Lab } from '../engine/types.ts';
import { openCloud, probeCloud, type CommonOptions, type OpenCloud, workspaceOf } from './context.ts';
import { CliError, ExitCode } from './errors.ts';
import { allLabs } from './labs.ts';
import { cmdAttack, cmdCheck, cmdHint, cmdReset, cmdSolution, cmdStart, cmdWatch, labMaxScore } from './student.ts';
import { cmdDoctor, cmdEnv } from './cloud.ts';
import { renderMarkdown, renderTasks, workbookMarkdown } from './render.ts';
import type { Ui } from './ui.ts';

class Back extends Error {}

const columns = () => Math.max(40, process.stdout.columns || 80);

/** `s` cut to `n` columns with … (in the middle for paths, whose both ends matter). */
export function fit(s: string, n: number, middle = false): string {
  const chars = [...s];
  if (chars.length <= n) return s;
  if (n <= 1) return '…'.slice(0, n);
  if (!middle) return `${chars.slice(0, n - 1).join('')}…`;
  const head = Math.ceil((n - 1) / 3);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (n - 1 - head)).join('')}`;
}

/** The workspace as short as it can be said: relative to here, or from ~. */
function shortPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  if (!rel) return '.';
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  const home = os.homedir();
  return p === home || p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p;
}

function isExitPrompt(e: unknown): boolean {
  return e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError');
}

export async function runMenu(ui: Ui, opts: CommonOptions): Promise<number> {
  let cloud: OpenCloud | undefined;
  const sharedCloud = async (): Promise<OpenCloud> => {
    if (cloud && !(await probeCloud(cloud.cloud))) return cloud;
    if (cloud) await cloud.close();
    cloud = await openCloud(ui, opts);
    return cloud;
  };
  const st = ui.out;
  try {
    for (;;) {
      const labs = await allLabs();
      const ws = await workspaceOf(opts);
      const progress = await loadProgress(ws, { onWarning: (m) => ui.warn(m) });
      // Every line fits the terminal: the list (cursor, slide, id, title, progress) and the line the
      // prompt leaves once answered ("✔ <message> <short answer>").
      const cols = columns();
      const idWidth = Math.max(9, ...labs.map((l) => l.id.length));
      const titleWidth = Math.max(12, Math.min(42, cols - 1 - 2 - 4 - (idWidth + 1) - 1 - 17));
      const choices = await Promise.all(labs.map(async (l) => {
        const lp = progress.labs[l.id];
        const max = await labMaxScore(l);
        const state = lp?.passed ? st.green(`✔ passed ${lp.bestScore}/${lp.maxScore ?? max}`)
          : lp?.lastScore !== null && lp?.lastScore !== undefined ? `${lp.lastScore}/${lp.maxScore ?? max}`
            : lp?.started ? st.yellow('started') : st.dim('not started');
        return { name: `${String(l.slide).padStart(2)}  ${l.id.padEnd(idWidth)} ${fit(l.title, titleWidth).padEnd(titleWidth)} ${state}`, value: l.id, short: l.id, description: l.summary };
      }));
      const lead = 'seclab — pick a lab';
      const room = cols - 1 - 2 - lead.length - ' (workspace )'.length - 1 - Math.max(idWidth, 'doctor'.length);
      let choice: string;
      try {
        choice = await select({
          message: room >= 8 ? `${lead} ${st.dim(`(workspace ${fit(shortPath(ws), room, true)})`)}` : lead,
          choices: [...choices, new Separator(), { name: 'Check this machine (doctor)', value: ':doctor', short: 'doctor' }, { name: 'Quit', value: ':quit', short: 'quit' }],
          pageSize: Math.max(8, labs.length + 4),
          loop: false,
        });
      } catch (e) {
        if (isExitPrompt(e)) return ExitCode.INTERRUPTED;
        throw e;
      }
      if (choice === ':quit') return ExitCode.OK;
      if (choice === ':doctor') {
        await guarded(ui, () => cmdDoctor(ui));
        continue;
      }
      const lab = labs.find((l) => l.id === choice)!;
      try {
        await labMenu(ui, lab, opts, sharedCloud);
      } catch (e) {
        if (!(e instanceof Back)) throw e;
      }
    }
  } finally {
    await cloud?.close();
  }
}

/** Runs an action; its errors are shown and the menu goes on. */
async function guarded(ui: Ui, fn: () => Promise<number>): Promise<number | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (isExitPrompt(e)) return undefined;
    if (e instanceof CliError) ui.error(e.message, e.hint);
    else ui.error((e as Error).message);
    return undefined;
  }
}

async function labMenu(ui: Ui, lab: Lab, opts: CommonOptions, sharedCloud: () => Promise<OpenCloud>): Promise<void> {
  await guarded(ui, () => cmdStart(ui, lab.id, opts, true));
  let last = 'check';
  for (;;) {
    const ws = await workspaceOf(opts);
    const lp = (await loadProgress(ws)).labs[lab.id];
    const score = lp?.lastScore !== null && lp?.lastScore !== undefined ? ` — last ${lp.lastScore}/${lp.maxScore}` : '';
    const actions = [
      { name: 'Check my work', value: 'check', description: 'grade the lab on a fresh account: your code, the controls, the attacks' },
      { name: 'Hint', value: 'hint', description: 'the next hint for the first task that fails' },
      { name: 'Attack', value: 'attack', description: 'launch one attack or all, and watch what was detected and blocked' },
      { name: 'Watch', value: 'watch', description: 're-check every time you save a file (q to come back)' },
      { name: 'Workbook page', value: 'workbook', description: 'show the page and the tasks again' },
      { name: 'Environment for the AWS CLI', value: 'env', description: 'export lines of a running `seclab cloud up`' },
      { name: 'Reset to the starter', value: 'reset', description: 'your folder is kept as a .bak copy' },
      ...(lp?.passed ? [{ name: 'Reference solution', value: 'solution', description: 'open now that you passed' }] : []),
      { name: 'Back to the labs', value: 'back' },
    ];
    let action: string;
    try {
      action = await select({ message: fit(`${lab.id} (slide ${lab.slide})${lp?.passed ? ' ✔ passed' : score}`, columns() - 4 - 28), choices: actions, default: last, pageSize: actions.length, loop: false });
    } catch (e) {
      if (isExitPrompt(e)) throw new Back();
      throw e;
    }
    last = action;
    switch (action) {
      case 'back': return;
      case 'check': await guarded(ui, async () => cmdCheck(ui, lab.id, opts, await sharedCloud())); break;
      case 'hint': await guarded(ui, () => cmdHint(ui, lab.id, undefined, opts)); break;
      case 'attack': {
        let which: string;
        try {
          which = await select({
            message: 'Which attack?',
            choices: [{ name: 'All of them', value: 'all' }, ...lab.scenarios.filter((s) => !s.hidden).map((s) => ({ name: fit(s.title, columns() - 3), value: s.id, short: fit(s.title, columns() - 1 - 2 - 'Which attack?'.length - 1), description: s.description })), { name: 'Cancel', value: ':cancel' }],
            loop: false,
          });
        } catch (e) {
          if (isExitPrompt(e)) break;
          throw e;
        }
        if (which !== ':cancel') await guarded(ui, async () => cmdAttack(ui, lab.id, which, opts, await sharedCloud()));
        break;
      }
      case 'watch': await guarded(ui, async () => cmdWatch(ui, lab.id, { ...opts, ctrlCReturns: true }, await sharedCloud())); break;
      case 'workbook':
        ui.print(renderMarkdown(workbookMarkdown(lab), { color: ui.out.enabled }));
        ui.print('');
        ui.print(renderTasks(lab, ui.out, lp));
        break;
      case 'env': await guarded(ui, () => cmdEnv(ui, opts)); break;
      case 'reset': await guarded(ui, () => cmdReset(ui, lab.id, opts)); break;
      case 'solution': await guarded(ui, () => cmdSolution(ui, lab.id, opts)); break;
    }
    ui.print('');
  }
}
