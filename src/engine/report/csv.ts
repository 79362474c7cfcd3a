// The class gradebook (RFC 4180 CSV): one row per student, one column per lab, then totals.
import type { Grade } from '../types.ts';

/** Quotes a field when needed; text that a spreadsheet would run as a formula is defused with a leading '. */
export function csvField(value: string | number | undefined | null, opts: { text?: boolean } = {}): string {
  if (value === undefined || value === null) return '';
  let s = String(value);
  if (opts.text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderGradebook(grades: Grade[], labIds?: string[]): string {
  const ids = labIds ?? [...new Set(grades.flatMap((g) => g.labs.map((l) => l.id)))];
  const rows: string[] = [['student', ...ids, 'total', 'max', 'percent', 'errors'].map((h) => csvField(h, { text: true })).join(',')];
  for (const g of grades) {
    const byId = new Map(g.labs.map((l) => [l.id, l]));
    const errors = g.labs.filter((l) => l.error).map((l) => `${l.id}: ${l.error}`).join('; ');
    rows.push([
      csvField(g.student, { text: true }),
      ...ids.map((id) => csvField(byId.get(id)?.score)),
      csvField(g.score), csvField(g.maxScore), csvField(g.percent.toFixed(1)),
      csvField(errors, { text: true }),
    ].join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
