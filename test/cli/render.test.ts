import { stripVTControlCharacters } from 'node:util';
import { Lexer, type Token, type Tokens } from 'marked';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderMarkdown, renderTasks, textWidth, workbookMarkdown, wrapLine } from '../../src/cli/render.ts';
import { allLabs } from '../../src/cli/labs.ts';
import { colorEnabled, makeStyle } from '../../src/engine/report/style.ts';

describe('workbook rendering', () => {
  const md = '# Title\n\nSome **bold** text.\n\n- **ben** uses `dev-team`\n- second item\n';

  it('renders Markdown for the terminal, inline markup in list items included', () => {
    const out = renderMarkdown(md, { color: true, width: 60 });
    expect(out).not.toContain('**');
    expect(out).toMatch(/Title[\s\S]*bold[\s\S]*ben[\s\S]*second item/);
  });

  it('has no escape sequences when colors are off', () => {
    const out = renderMarkdown(md, { color: false, width: 60 });
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('**');
    expect(out).toContain('ben uses `dev-team`');
  });

  it('follows NO_COLOR and FORCE_COLOR', () => {
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });

  it('keeps wildcard asterisks literal, and emphasis where it starts a word', () => {
    const hint = 'bytes sent outside (srcaddr=10.20.*, dstaddr!=10.20.*, metric value $bytes), rules in siem/rules/*.yml, "Action": "*"';
    for (const color of [false, true]) {
      const out = stripVTControlCharacters(renderMarkdown(hint, { color, width: 200 }));
      expect(out).toContain('srcaddr=10.20.*, dstaddr!=10.20.*,');
      expect(out).toContain('siem/rules/*.yml');
      expect(out).toContain('"Action": "*"');
    }
    const em = renderMarkdown('*Why:* it **matters** (**really**), `a*b*c`', { color: true, width: 80 });
    expect(em).toContain('\u001b[3mWhy:\u001b[23m');
    expect(em).toContain('\u001b[1mmatters\u001b[22m');
    expect(em).toContain('\u001b[1mreally\u001b[22m');
    expect(stripVTControlCharacters(em)).toContain('a*b*c');
  });

  it('does not split a code span that fits on a line', () => {
    const out = renderMarkdown(`${'word '.repeat(14)}then \`sts get-session-token --serial-number <device>\` and more`, { color: false, width: 80 });
    expect(out.split('\n').some((l) => l.includes('`sts get-session-token --serial-number <device>`'))).toBe(true);
    expect(out.split('\n').every((l) => textWidth(l) <= 80)).toBe(true);
  });

  it('fits a table to the width, or turns it into key: value blocks', () => {
    const table = '| metric | which records | value |\n|---|---|---|\n| rejected SSH attempts | `dstport = 22`, `action = REJECT`, and a long explanation of what else matters here | 1 per record |\n| bytes out | `srcaddr` inside 10.20.0.0/16 | `$bytes` |\n';
    const wide = renderMarkdown(table, { color: false, width: 120 });
    expect(wide.split('\n')[0]).toMatch(/^┌─+┬/);
    const narrow = renderMarkdown(table, { color: false, width: 80 });
    expect(narrow.split('\n').every((l) => textWidth(l) <= 80)).toBe(true);
    expect(narrow).toContain('1 per record');
    const tiny = renderMarkdown(table, { color: false, width: 40 });
    expect(tiny).toContain('metric: rejected SSH attempts');
    expect(tiny).toMatch(/\n {2}value: 1 per record/);
    expect(tiny.split('\n').every((l) => textWidth(l) <= 40)).toBe(true);
  });

  it('renders nested bullets without blank lines between them', () => {
    const out = renderMarkdown('- one\n  - nested a\n  - nested b\n- two\n', { color: true, width: 80 });
    expect(stripVTControlCharacters(out)).toBe('• one\n  ◦ nested a\n  ◦ nested b\n• two');
  });

  it('wraps long code lines with a ↪ mark and keeps every character', () => {
    const line = 'x'.repeat(30) + ' ' + 'y'.repeat(30) + ' ' + 'z'.repeat(30);
    const out = renderMarkdown(`\`\`\`\n${line}\n\`\`\``, { color: false, width: 80 });
    expect(out.split('\n').length).toBe(2);
    expect(out).toContain('↪ ');
    expect(out.replace(/\n\s*↪ /g, '').replace(/^ +/, '').replace(/ /g, '')).toBe(line.replace(/ /g, ''));
  });

  it('never writes a line wider than the terminal, whatever the Markdown (property)', () => {
    const word = fc.oneof(
      fc.constantFrom('a', 'word', 'srcaddr=10.20.*', '**bold**', '*em*', '`code span`', '`arn:aws:iam::123456789012:user/a-rather-long-name`', '—', '✔', 'x'.repeat(45), '`' + 'y '.repeat(50) + '`'),
      fc.string({ minLength: 1, maxLength: 12 }).map((w) => w.replace(/\s/g, '')).filter((w) => w.length > 0),
    );
    const line = fc.array(word, { minLength: 1, maxLength: 30 }).map((ws) => ws.join(' '));
    const block = fc.oneof(
      line,
      fc.array(line, { minLength: 1, maxLength: 4 }).map((ls) => ls.map((l, i) => `${i % 2 ? '  ' : ''}- ${l}`).join('\n')),
      fc.tuple(fc.integer({ min: 1, max: 5 }), fc.array(line, { minLength: 2, maxLength: 4 })).map(([n, ls]) =>
        [Array(n).fill('h').join(' | '), Array(n).fill('---').join(' | '), ...ls.map((l) => Array(n).fill(l.replace(/\|/g, '')).join(' | '))].map((r) => `| ${r} |`).join('\n')),
      line.map((l) => `\`\`\`\n${l}\n\`\`\``),
    );
    fc.assert(fc.property(fc.array(block, { minLength: 1, maxLength: 4 }), fc.integer({ min: 30, max: 140 }), fc.boolean(), (blocks, width, color) => {
      const out = stripVTControlCharacters(renderMarkdown(blocks.join('\n\n'), { color, width }));
      for (const l of out.split('\n')) expect(textWidth(l), l).toBeLessThanOrEqual(width);
    }), { numRuns: 150 });
  });

  it('wraps a styled line at spaces', () => {
    const st = makeStyle(true);
    const lines = wrapLine(`  ${st.dim('·')} ${'word '.repeat(30).trim()} ${st.dim('[tag] 15 pts')}`, 40, 4);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(textWidth(l)).toBeLessThanOrEqual(40);
  });
});

/** The code spans of a Markdown text (outside fenced code), as their text. */
function codeSpans(md: string): string[] {
  const out: string[] = [];
  const walk = (tokens: Token[] | undefined) => {
    for (const t of tokens ?? []) {
      if (t.type === 'codespan') out.push((t as Tokens.Codespan).text);
      const any = t as { tokens?: Token[]; items?: Tokens.ListItem[]; header?: Tokens.TableCell[]; rows?: Tokens.TableCell[][] };
      walk(any.tokens);
      for (const i of any.items ?? []) walk(i.tokens);
      for (const c of any.header ?? []) walk(c.tokens);
      for (const r of any.rows ?? []) for (const c of r) walk(c.tokens);
    }
  };
  walk(Lexer.lex(md) as Token[]);
  return out;
}

/** Tight lists of a Markdown text (as their source), nested ones included. */
function tightLists(md: string): string[] {
  const out: string[] = [];
  const walk = (tokens: Token[] | undefined) => {
    for (const t of tokens ?? []) {
      if (t.type === 'list') {
        const l = t as Tokens.List;
        if (!l.loose && !l.items.some((i) => i.tokens.some((c) => c.type === 'list' && (c as Tokens.List).loose))) out.push(l.raw);
        for (const i of l.items) walk(i.tokens);
      } else walk((t as { tokens?: Token[] }).tokens);
    }
  };
  walk(Lexer.lex(md) as Token[]);
  return out;
}

describe('every workbook and hint at 80 and 120 columns', async () => {
  const labs = await allLabs();
  const docs = labs.flatMap((lab) => [
    { name: `${lab.id} workbook`, md: workbookMarkdown(lab), indent: 0 },
    ...lab.tasks.flatMap((t) => t.hints.map((h, i) => ({ name: `${lab.id} hint ${t.id}#${i + 1}`, md: h, indent: 2 }))),
  ]);

  it('has workbooks and hints to check', () => {
    expect(labs.length).toBeGreaterThan(0);
    expect(docs.filter((d) => d.name.endsWith('workbook')).length).toBe(labs.length);
  });

  for (const width of [80, 120]) {
    for (const color of [false, true]) {
      it(`${width} columns, ${color ? 'colors' : 'plain'}: no line wider than the terminal, code spans literal, tables within the width, no doubled blank lines`, () => {
        for (const d of docs) {
          const raw = renderMarkdown(d.md, { color, width, indent: d.indent });
          if (!color) expect(raw, d.name).not.toContain('\u001b');
          const out = stripVTControlCharacters(raw);
          const lines = out.split('\n');
          for (const [i, l] of lines.entries()) expect(textWidth(l), `${d.name} line ${i + 1}: ${l}`).toBeLessThanOrEqual(width);
          // Box tables: every line of a box has the same width, within the terminal.
          for (const l of lines.filter((x) => /^\s*[┌├└│]/.test(x) && /[┐┤┘│]$/.test(x))) expect(textWidth(l), `${d.name}: ${l}`).toBeLessThanOrEqual(width);
          expect(out, d.name).not.toMatch(/\n[ \t]*\n[ \t]*\n/);
          // A code span is on one line when it fits one (else broken only at its spaces).
          const joined = out.replace(/\n\s*(↪ )?/g, ' ');
          for (const span of codeSpans(d.md)) {
            const shown = color ? span : `\`${span}\``;
            if (textWidth(shown) <= Math.min(width, 100) - d.indent - 6) expect(lines.some((l) => l.includes(shown)), `${d.name}: ${shown}`).toBe(true);
            else expect(joined, `${d.name}: ${shown}`).toContain(shown);
          }
          // Asterisks of the text survive (wildcards in patterns): as many as outside emphasis in the source.
          if (d.name.includes('hint')) expect(out.split('*').length, d.name).toBe(d.md.split('*').length);
        }
      });

      it(`${width} columns: tight lists (nested ones too) have no blank lines inside`, () => {
        for (const d of docs) {
          for (const list of tightLists(d.md)) {
            const out = stripVTControlCharacters(renderMarkdown(list, { color, width }));
            expect(out, `${d.name}:\n${out}`).not.toMatch(/\n\s*\n/);
          }
        }
      });
    }
  }

  it('the task list fits 80 columns', () => {
    for (const lab of labs) {
      for (const l of stripVTControlCharacters(renderTasks(lab, makeStyle(true), undefined, 80)).split('\n')) expect(textWidth(l), l).toBeLessThanOrEqual(80);
    }
  });
});
