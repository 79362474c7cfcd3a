// `seclab` in a terminal: the interactive menu (inquirer). Labs with progress; inside a lab its
// workbook page, then check, hint, attack, watch, reset, env, and the solution once passed. One lab
// cloud is started on the first action that needs it and kept until the menu closes.
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
      const choices = await Promise.all(labs.map(async (l) => {
        const lp = progress.labs[l.id];
        const max = await labMaxScore(l);
        const state = lp?.passed ? st.green(`✔ passed ${lp.bestScore}/${lp.maxScore ?? max}`)
          : lp?.lastScore !== null && lp?.lastScore !== undefined ? `${lp.lastScore}/${lp.maxScore ?? max}`
            : lp?.started ? st.yellow('started') : st.dim('not started');
        return { name: `${String(l.slide).padStart(2)}  ${l.id.padEnd(9)} ${l.title.padEnd(42)} ${state}`, value: l.id, description: l.summary };
      }));
      let choice: string;
      try {
        choice = await select({
          message: `seclab — pick a lab ${st.dim(`(workspace ${ws})`)}`,
          choices: [...choices, new Separator(), { name: 'Check this machine (doctor)', value: ':doctor' }, { name: 'Quit', value: ':quit' }],
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
      action = await select({ message: `${lab.id} (slide ${lab.slide})${lp?.passed ? ' ✔ passed' : score}`, choices: actions, default: last, pageSize: actions.length, loop: false });
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
            choices: [{ name: 'All of them', value: 'all' }, ...lab.scenarios.filter((s) => !s.hidden).map((s) => ({ name: s.title, value: s.id, description: s.description })), { name: 'Cancel', value: ':cancel' }],
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
