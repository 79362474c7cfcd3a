// Workbook pages in the terminal: Markdown rendered with marked + marked-terminal; plain (no ANSI)
// when colors are off.
import { existsSync, readFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { Marked } from 'marked';
import { markedTerminal } from 'marked-terminal';
import type { Lab } from '../engine/types.ts';
import type { LabProgress } from '../engine/progress.ts';
import type { Style } from '../engine/report/style.ts';

export function renderMarkdown(markdown: string, opts: { color: boolean; width?: number }): string {
  const width = Math.max(40, Math.min(opts.width ?? process.stdout.columns ?? 80, 100));
  const m = new Marked();
  const plain = opts.color ? {} : { codespan: (s: string) => `\`${s}\`` };
  m.use(markedTerminal({ width, reflowText: true, showSectionPrefix: false, emoji: false, tab: 2, ...plain }) as never);
  // marked-terminal 7 prints the text of tight list items raw (**bold** stays as is): render their inline tokens.
  m.use({
    renderer: {
      text(this: { parser: { parseInline(tokens: unknown[]): string } }, token: { tokens?: unknown[] }) {
        return typeof token === 'object' && token.tokens?.length ? this.parser.parseInline(token.tokens) : false;
      },
    },
  } as never);
  const out = m.parse(markdown, { async: false }) as string;
  return (opts.color ? out : stripVTControlCharacters(out)).replace(/\n{3,}/g, '\n\n').trimEnd();
}

/** The workbook page of a lab, or its summary and objectives when the page is missing. */
export function workbookMarkdown(lab: Lab): string {
  if (lab.workbook && existsSync(lab.workbook)) return readFileSync(lab.workbook, 'utf8');
  return [
    `# Slide ${lab.slide}: ${lab.title}`,
    '',
    lab.summary,
    '',
    '## Objectives',
    '',
    ...lab.objectives.map((o) => `- ${o}`),
    '',
    '_(The workbook page of this lab is not written yet.)_',
  ].join('\n');
}

export function renderTasks(lab: Lab, st: Style, progress?: LabProgress): string {
  const failing = new Set(progress?.failingTasks ?? []);
  const checked = progress?.lastScore !== null && progress?.lastScore !== undefined;
  const lines = [st.bold('Tasks')];
  lab.tasks.forEach((t, i) => {
    const checks = lab.checks.filter((c) => c.task === t.id);
    const pts = checks.reduce((a, c) => a + c.points, 0);
    const mark = !checked ? st.dim('·') : failing.has(t.id) ? st.red('✘') : st.green('✔');
    const seen = progress?.hintsSeen[t.id] ?? 0;
    lines.push(`  ${mark} ${i + 1}. ${t.title} ${st.dim(`[${t.id}]${pts ? ` ${pts} pts` : ''}${t.hints.length ? ` · hints ${seen}/${t.hints.length}` : ''}`)}`);
  });
  if (lab.scenarios.length) {
    lines.push('', st.bold('Attacks your controls will face'));
    for (const s of lab.scenarios) {
      if (s.hidden) continue;
      lines.push(`  · ${s.title} ${st.dim(`[${s.id}] ${s.techniques.join(', ')}`)}`);
    }
  }
  return lines.join('\n');
}
