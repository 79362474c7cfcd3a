// Workbook pages and hints in the terminal: Markdown parsed with marked and laid out here for the
// terminal's width. Code stays literal: a code span is never split across lines unless it is wider
// than the line (then only at its spaces), and an asterisk that touches a word on its left
// (`srcaddr=10.20.*`, `siem/rules/*.yml`) is a character, not emphasis. Tables fit the width (their
// cells wrap) or, when they cannot, become one "key: value" block per row. Wide code lines wrap with
// a ↪ mark. Plain (no ANSI) when colors are off.
import { existsSync, readFileSync } from 'node:fs';
import { Marked, type Token, type Tokens } from 'marked';
import type { Lab } from '../engine/types.ts';
import type { LabProgress } from '../engine/progress.ts';
import type { Style } from '../engine/report/style.ts';

export interface RenderOptions {
  color: boolean;
  /** The terminal's width (default: stdout's columns, else 80). Prose lines stop at 100 columns. */
  width?: number;
  /** Spaces before every line, counted in the width (hints are shown indented). */
  indent?: number;
}

/** The widest prose line however wide the terminal: longer lines are hard to read. */
const PROSE_MAX = 100;
const MIN_WIDTH = 30;

export function renderMarkdown(markdown: string, opts: RenderOptions): string {
  const indent = Math.max(0, opts.indent ?? 0);
  const full = Math.max(MIN_WIDTH, (opts.width ?? process.stdout.columns ?? 80) - indent);
  const r = new TerminalRenderer(opts.color, full);
  const tokens = lexer().lexer(markdown.replace(/\r\n?/g, '\n')) as Token[];
  const pad = ' '.repeat(indent);
  return r.blocks(tokens, Math.min(full, PROSE_MAX), full)
    .map((l) => (l ? pad + l : l)).join('\n').replace(/\n{3,}/g, '\n\n').replace(/^\n+/, '').trimEnd();
}

/** Display width of a string without escape sequences (one column per code point). */
export function textWidth(s: string): number {
  let n = 0;
  // eslint-disable-next-line no-control-regex
  for (const ch of s.replace(/\u001b\[[0-9;]*m/g, '')) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x300 && c <= 0x36f) continue; // combining marks
    n += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff00 && c <= 0xff60) || (c >= 0x1f300 && c <= 0x1faff) ? 2 : 1;
  }
  return n;
}

// ---- parsing ----

/** Characters after which an asterisk may open emphasis (else it is a literal character). */
const OPENS_AFTER = /[\s([{"'“‘«—–]/;
const CLOSING = /[\s,.;:!?)\]}]/;

function lexer(): Marked {
  const m = new Marked({ gfm: true });
  m.use({
    tokenizer: {
      // `srcaddr=10.20.*, dstaddr!=10.20.*` is two patterns, not an italic ", dstaddr!=10.20.": an
      // asterisk opens emphasis only at the start of a word.
      emStrong(src: string, _masked: string, prevChar = '') {
        const run = /^\*+/.exec(src)?.[0];
        if (!run) return false;
        const next = src.charAt(run.length);
        const opens = (prevChar === '' || OPENS_AFTER.test(prevChar)) && next !== '' && !CLOSING.test(next);
        return opens ? false : { type: 'text', raw: run, text: run, escaped: true };
      },
    },
  } as never);
  return m;
}

// ---- inline text ----

interface Piece {
  text: string;
  /** ANSI open and close sequences ('' without colors). */
  open: string;
  close: string;
  /** Part of a code span: kept on one line when it fits. */
  code?: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'", nbsp: '\u00a0' };
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (_m, e: string) => ENTITIES[e]!);

const SGR = {
  bold: ['\u001b[1m', '\u001b[22m'],
  italic: ['\u001b[3m', '\u001b[23m'],
  underline: ['\u001b[4m', '\u001b[24m'],
  strike: ['\u001b[9m', '\u001b[29m'],
  dim: ['\u001b[2m', '\u001b[22m'],
  yellow: ['\u001b[33m', '\u001b[39m'],
  cyan: ['\u001b[36m', '\u001b[39m'],
  green: ['\u001b[32m', '\u001b[39m'],
  magenta: ['\u001b[35m', '\u001b[39m'],
} as const;
type Sgr = keyof typeof SGR;

class TerminalRenderer {
  private codeIds = 0;

  constructor(private readonly color: boolean, private readonly full: number) {}

  private sgr(s: string, ...styles: Sgr[]): string {
    if (!this.color || !s) return s;
    return styles.map((k) => SGR[k][0]).join('') + s + styles.map((k) => SGR[k][1]).reverse().join('');
  }

  /** Inline tokens as styled pieces. */
  private pieces(tokens: Token[] | undefined, style: Sgr[] = []): Piece[] {
    const out: Piece[] = [];
    const on = (text: string, st: Sgr[], code?: number) => {
      if (!text) return;
      const open = this.color ? st.map((k) => SGR[k][0]).join('') : '';
      const close = this.color ? st.map((k) => SGR[k][1]).reverse().join('') : '';
      out.push({ text, open, close, ...(code !== undefined ? { code } : {}) });
    };
    for (const t of tokens ?? []) {
      switch (t.type) {
        case 'text': {
          const tt = t as Tokens.Text;
          if (tt.tokens?.length) out.push(...this.pieces(tt.tokens, style));
          else on(decode(tt.text), style);
          break;
        }
        case 'escape': on(decode((t as Tokens.Escape).text), style); break;
        case 'codespan': {
          const id = ++this.codeIds;
          const text = decode((t as Tokens.Codespan).text);
          on(this.color ? text : `\`${text}\``, [...style, 'yellow'], id);
          break;
        }
        case 'strong': out.push(...this.pieces((t as Tokens.Strong).tokens, [...style, 'bold'])); break;
        case 'em': out.push(...this.pieces((t as Tokens.Em).tokens, [...style, 'italic'])); break;
        case 'del': out.push(...this.pieces((t as Tokens.Del).tokens, [...style, 'strike'])); break;
        case 'link': {
          const l = t as Tokens.Link;
          const inner = this.pieces(l.tokens, [...style, 'underline']);
          out.push(...inner);
          const shown = inner.map((p) => p.text).join('');
          if (l.href && shown !== l.href && `mailto:${shown}` !== l.href) on(` (${l.href})`, [...style, 'dim']);
          break;
        }
        case 'image': on(`[image: ${(t as Tokens.Image).text || (t as Tokens.Image).href}]`, [...style, 'dim']); break;
        case 'br': out.push({ text: '\n', open: '', close: '' }); break;
        case 'html': on((t as Tokens.HTML).text, style); break;
        case 'checkbox': on((t as { checked?: boolean }).checked ? '[x] ' : '[ ] ', style); break;
        default: {
          const any = t as { tokens?: Token[]; text?: string };
          if (any.tokens?.length) out.push(...this.pieces(any.tokens, style));
          else if (typeof any.text === 'string') on(decode(any.text), style);
        }
      }
    }
    return out;
  }

  /**
   * Lays pieces out in lines of at most `width` columns: words never split unless wider than a line,
   * a code span kept whole when it fits a line.
   */
  private wrap(pieces: Piece[], width: number): string[] {
    type Word = Piece[];
    const words: (Word | '\n')[] = [];
    let cur: Word = [];
    const flush = () => {
      if (cur.length) words.push(cur);
      cur = [];
    };
    // Whole code spans that fit: their spaces do not break.
    const codeWidth = new Map<number, number>();
    for (const p of pieces) if (p.code !== undefined) codeWidth.set(p.code, (codeWidth.get(p.code) ?? 0) + textWidth(p.text));
    for (const p of pieces) {
      if (p.text === '\n') {
        flush();
        words.push('\n');
        continue;
      }
      if (p.code !== undefined && codeWidth.get(p.code)! <= width) {
        cur.push(p);
        continue;
      }
      const parts = p.code !== undefined ? p.text.split(/( +)/) : p.text.split(/(\s+)/);
      parts.forEach((part, i) => {
        if (i % 2 === 1) flush();
        else if (part) cur.push({ ...p, text: part });
      });
    }
    flush();
    const lines: string[] = [];
    let line = '';
    let used = 0;
    const emit = () => {
      lines.push(line);
      line = '';
      used = 0;
    };
    const render = (w: Word) => w.map((p) => p.open + p.text + p.close).join('');
    for (const w of words) {
      if (w === '\n') {
        emit();
        continue;
      }
      const ww = w.reduce((a, p) => a + textWidth(p.text), 0);
      if (used && used + 1 + ww <= width) {
        line += ` ${render(w)}`;
        used += 1 + ww;
        continue;
      }
      if (used) emit();
      if (ww <= width) {
        line = render(w);
        used = ww;
        continue;
      }
      // Wider than a line (a long URL or identifier): cut it at the width.
      for (const p of w) {
        let rest = [...p.text];
        while (rest.length) {
          if (used >= width) emit();
          const take: string[] = [];
          let tw = 0;
          while (rest.length && used + tw + textWidth(rest[0]!) <= width) {
            const ch = rest.shift()!;
            take.push(ch);
            tw += textWidth(ch);
          }
          if (!take.length) {
            if (used) {
              emit(); // a wide character that does not fit the end of the line
              continue;
            }
            take.push(rest.shift()!); // wider than a whole line: nothing better to do
            tw = textWidth(take[0]!);
          }
          line += p.open + take.join('') + p.close;
          used += tw;
        }
      }
    }
    if (used || line) emit();
    return lines.length ? lines : [''];
  }

  private inlineLines(tokens: Token[] | undefined, width: number): string[] {
    return this.wrap(this.pieces(tokens), width);
  }

  private plainWidth(tokens: Token[] | undefined): number {
    return this.pieces(tokens).reduce((a, p) => a + textWidth(p.text), 0);
  }

  // ---- blocks ----

  /** Blocks separated by a blank line (`tight`: none, as inside tight list items). */
  blocks(tokens: Token[], prose: number, full: number, tight = false): string[] {
    const out: string[] = [];
    for (const t of tokens) {
      if (t.type === 'space' || t.type === 'def') continue;
      const lines = this.block(t, prose, full);
      if (!lines.length) continue;
      if (out.length && !tight) out.push('');
      out.push(...lines);
    }
    return out;
  }

  private block(t: Token, prose: number, full: number): string[] {
    switch (t.type) {
      case 'heading': {
        const h = t as Tokens.Heading;
        const styles: Sgr[] = h.depth === 1 ? ['bold', 'underline', 'magenta'] : h.depth === 2 ? ['bold', 'green'] : ['bold'];
        return this.wrap(this.pieces(h.tokens, styles), prose);
      }
      case 'paragraph': return this.inlineLines((t as Tokens.Paragraph).tokens, prose);
      case 'text': {
        const tt = t as Tokens.Text;
        return tt.tokens ? this.inlineLines(tt.tokens, prose) : this.wrap([{ text: decode(tt.text), open: '', close: '' }], prose);
      }
      case 'list': return this.list(t as Tokens.List, prose, full);
      case 'code': return this.code((t as Tokens.Code).text, full);
      case 'table': return this.table(t as Tokens.Table, full);
      case 'blockquote': {
        const bar = this.sgr('│ ', 'dim');
        return this.blocks((t as Tokens.Blockquote).tokens, prose - 2, full - 2).map((l) => (l ? bar + l : bar.trimEnd()));
      }
      case 'hr': return [this.sgr('─'.repeat(Math.min(prose, 40)), 'dim')];
      case 'html':
        if (/^\s*<!--[\s\S]*-->\s*$/.test((t as Tokens.HTML).text)) return []; // an author's comment
        return (t as Tokens.HTML).text.replace(/\n+$/, '').split('\n').flatMap((l) => this.wrap([{ text: l, open: '', close: '' }], full));
      default: {
        const any = t as { tokens?: Token[]; text?: string };
        if (any.tokens) return this.blocks(any.tokens, prose, full);
        return typeof any.text === 'string' ? this.wrap([{ text: any.text, open: '', close: '' }], prose) : [];
      }
    }
  }

  private list(l: Tokens.List, prose: number, full: number, depth = 0): string[] {
    const out: string[] = [];
    const start = typeof l.start === 'number' ? l.start : 1;
    const last = start + l.items.length - 1;
    const numWidth = String(last).length;
    l.items.forEach((item, i) => {
      const marker = l.ordered ? `${String(start + i).padStart(numWidth)}.` : ['•', '◦', '▪'][depth % 3]!;
      const box = item.task ? (item.checked ? '[x] ' : '[ ] ') : '';
      const hang = ' '.repeat(textWidth(marker) + 1);
      const w = Math.max(10, prose - hang.length);
      const fw = Math.max(10, full - hang.length);
      // Nested lists follow their item's text directly; a loose list's items are separated by a blank line.
      const body: string[] = [];
      let prev: Token | undefined;
      for (const c of item.tokens.filter((c) => c.type !== 'space' && c.type !== 'checkbox')) {
        const lines = c.type === 'list' ? this.list(c as Tokens.List, w, fw, depth + 1) : this.block(c, w, fw);
        if (!lines.length) continue;
        if (prev && l.loose && c.type !== 'list') body.push('');
        body.push(...lines);
        prev = c;
      }
      if (!body.length) body.push('');
      if (box) body[0] = box + body[0];
      if (i > 0 && l.loose) out.push('');
      body.forEach((line, j) => out.push(j === 0 ? `${this.sgr(marker, 'dim')} ${line}` : line ? hang + line : ''));
    });
    return out;
  }

  /** A code block, indented by 2; lines wider than the terminal continue on the next line after ↪. */
  private code(text: string, full: number): string[] {
    const width = Math.max(10, full - 2);
    const out: string[] = [];
    for (const raw of text.replace(/\n+$/, '').split('\n')) {
      const line = raw.replace(/\t/g, '    ');
      if (textWidth(line) <= width) {
        out.push(`  ${this.sgr(line, 'yellow')}`);
        continue;
      }
      // Continuations line up under the line's text, or under its `//` comment when the cut is in it.
      const comment = line.search(/\s\/\/ /) + 1;
      const lead = ' '.repeat(comment > 0 && comment < width - 24 ? comment : Math.min(/^ */.exec(line)![0].length, Math.floor(width / 2)));
      const mark = `${lead}↪ `;
      let rest = line;
      let first = true;
      while (rest) {
        const room = first ? width : width - textWidth(mark);
        let cut = rest.length;
        if (textWidth(rest) > room) {
          const chars = [...rest];
          let n = 0;
          let w = 0;
          while (n < chars.length && w + textWidth(chars[n]!) <= room) w += textWidth(chars[n++]!);
          const head = chars.slice(0, n).join('');
          const sp = head.lastIndexOf(' ');
          cut = sp > head.length / 2 ? sp + 1 : head.length;
        }
        const part = rest.slice(0, cut);
        out.push(first ? `  ${this.sgr(part.trimEnd(), 'yellow')}` : `  ${this.sgr(mark, 'dim')}${this.sgr(part.trimEnd(), 'yellow')}`);
        rest = rest.slice(cut);
        first = false;
      }
    }
    return out;
  }

  /**
   * A table in a box when it fits the width, its cells wrapped when needed; when the columns would get
   * too narrow to read, one block per row: "header: value" lines.
   */
  private table(t: Tokens.Table, full: number): string[] {
    const n = t.header.length;
    const cells = [t.header, ...t.rows].map((r) => Array.from({ length: n }, (_, i) => r[i]?.tokens ?? []));
    const natural = Array.from({ length: n }, (_, i) => Math.max(1, ...cells.map((r) => this.plainWidth(r[i]))));
    const overhead = 3 * n + 1;
    const avail = full - overhead;
    let widths = natural;
    if (natural.reduce((a, b) => a + b, 0) > avail) {
      // The narrowest each column can be: its longest word, code spans whole (up to half the width:
      // a column narrower than its code would cut it, and the vertical form reads better then).
      const cap = Math.max(20, Math.floor(full / 2));
      // Narrow columns (a number, a few words) keep their width: the wide ones wrap.
      const minimum = Array.from({ length: n }, (_, i) => (natural[i]! <= 14 ? natural[i]! : Math.min(natural[i]!, Math.max(8, ...cells.map((r) => this.longestWord(r[i]!, cap))))));
      const sumMin = minimum.reduce((a, b) => a + b, 0);
      if (sumMin > avail) return this.tableRows(t, full);
      const extra = avail - sumMin;
      const want = natural.map((w, i) => w - minimum[i]!);
      const wantSum = want.reduce((a, b) => a + b, 0) || 1;
      widths = minimum.map((m, i) => m + Math.floor((extra * want[i]!) / wantSum));
      // A table whose cells become tall narrow strips reads worse than rows of "key: value".
      const tallest = Math.max(...cells.map((r) => Math.max(...r.map((c, i) => this.wrap(this.pieces(c), widths[i]!).length))));
      if (tallest > 6) return this.tableRows(t, full);
    }
    const rows = cells.map((r, ri) => r.map((c, i) => this.wrap(this.pieces(c, ri === 0 ? ['bold'] : []), widths[i]!)));
    const multi = rows.slice(1).some((r) => r.some((c) => c.length > 1));
    const line = (l: string, m: string, r: string) => this.sgr(l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r, 'dim');
    const bar = this.sgr('│', 'dim');
    const out = [line('┌', '┬', '┐')];
    rows.forEach((r, ri) => {
      if (ri === 1) out.push(line('├', '┼', '┤'));
      else if (ri > 1 && multi) out.push(line('├', '┼', '┤'));
      const h = Math.max(...r.map((c) => c.length));
      for (let k = 0; k < h; k++) {
        out.push(bar + r.map((c, i) => {
          const s = c[k] ?? '';
          const pad = ' '.repeat(Math.max(0, widths[i]! - textWidth(s)));
          const align = t.align[i];
          const text = align === 'right' ? pad + s : align === 'center' ? pad.slice(0, pad.length >> 1) + s + pad.slice(pad.length >> 1) : s + pad;
          return ` ${text} `;
        }).join(bar) + bar);
      }
    });
    out.push(line('└', '┴', '┘'));
    return out;
  }

  private longestWord(tokens: Token[], cap: number): number {
    const lines = this.wrap(this.pieces(tokens), cap);
    return Math.max(0, ...lines.flatMap((l) => l.replace(/\u001b\[[0-9;]*m/g, '').split(' ').map(textWidth)));
  }

  /** The vertical form of a table: per row, each "header: value" on its own line(s). */
  private tableRows(t: Tokens.Table, full: number): string[] {
    const out: string[] = [];
    const width = Math.max(20, Math.min(full, PROSE_MAX));
    const keys = t.header.map((h, i) => this.pieces(h.tokens).map((p) => p.text).join('') || `column ${i + 1}`);
    t.rows.forEach((r, ri) => {
      if (ri > 0) out.push('');
      keys.forEach((k, i) => {
        const first = i === 0;
        const key: Piece = { text: `${k}:`, open: this.color ? SGR.bold[0] + (first ? '' : SGR.dim[0]) : '', close: this.color ? SGR.bold[1] : '' };
        const lines = this.wrap([key, { text: ' ', open: '', close: '' }, ...this.pieces(r[i]?.tokens ?? [])], width - 4);
        lines.forEach((l, j) => out.push(first ? (j === 0 ? l : `  ${l}`) : j === 0 ? `  ${l}` : `    ${l}`));
      });
    });
    return out;
  }
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
/**
 * A line that may hold escape sequences, wrapped at spaces to `width` columns; the lines after the
 * first start with `hang` spaces.
 */
export function wrapLine(line: string, width: number = terminalWidth(), hang = 0): string[] {
  if (textWidth(line) <= width) return [line];
  const lead = /^ */.exec(line)![0];
  const words = line.slice(lead.length).split(' ');
  const out: string[] = [];
  let cur = lead;
  let used = lead.length;
  let fresh = true;
  for (const w of words) {
    const ww = textWidth(w);
    if (!fresh && used + 1 + ww > width) {
      out.push(cur);
      cur = ' '.repeat(hang) + w;
      used = hang + ww;
      continue;
    }
    cur += fresh ? w : ` ${w}`;
    used += (fresh ? 0 : 1) + ww;
    fresh = false;
  }
  out.push(cur);
  return out;
}

/** The terminal's width (80 when stdout is not a terminal). */
export function terminalWidth(): number {
  return Math.max(MIN_WIDTH, process.stdout.columns || 80);
}

export function renderTasks(lab: Lab, st: Style, progress?: LabProgress, width: number = terminalWidth()): string {
  const failing = new Set(progress?.failingTasks ?? []);
  const checked = progress?.lastScore !== null && progress?.lastScore !== undefined;
  const lines = [st.bold('Tasks')];
  lab.tasks.forEach((t, i) => {
    const checks = lab.checks.filter((c) => c.task === t.id);
    const pts = checks.reduce((a, c) => a + c.points, 0);
    const mark = !checked ? st.dim('·') : failing.has(t.id) ? st.red('✘') : st.green('✔');
    const seen = progress?.hintsSeen[t.id] ?? 0;
    const num = `${i + 1}. `;
    lines.push(...wrapLine(`  ${mark} ${num}${t.title} ${st.dim(`[${t.id}]${pts ? ` ${pts} pts` : ''}${t.hints.length ? ` · hints ${seen}/${t.hints.length}` : ''}`)}`, width, 4 + num.length));
  });
  if (lab.scenarios.length) {
    lines.push('', st.bold('Attacks your controls will face'));
    for (const s of lab.scenarios) {
      if (s.hidden) continue;
      lines.push(...wrapLine(`  · ${s.title} ${st.dim(`[${s.id}] ${s.techniques.join(', ')}`)}`, width, 4));
    }
  }
  return lines.join('\n');
}
