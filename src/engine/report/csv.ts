// The class gradebook (RFC 4180 CSV): one row per student, one column per lab, then totals.
import type { Grade } from '../types.ts';
import { statusOf } from './record.ts';

/** Quotes a field when needed; text that a spreadsheet would run as a formula is defused with a leading '. */
export function csvField(value: string | number | undefined | null, opts: { text?: boolean } = {}): string {
  if (value === undefined || value === null) return '';
  let s = String(value);
  if (opts.text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderGradebook(grades: Grade[], labIds?: string[]): string {
  const ids = labIds ?? [...new Set(grades.flatMap((g) => g.labs.map((l) => l.id)))];
  const rows: string[] = [['student', ...ids, 'total', 'max', 'percent', 'status', 'errors'].map((h) => csvField(h, { text: true })).join(',')];
  for (const g of grades) {
    const byId = new Map(g.labs.map((l) => [l.id, l]));
    // What happened to the code, per lab that did not simply get graded: "iam: crashed; network: timed out".
    const status = g.labs.map((l) => ({ id: l.id, ...statusOf(l) })).filter((x) => x.status !== 'graded');
    const errors = g.labs.map((l) => ({ id: l.id, ...statusOf(l) })).filter((x) => x.detail).map((x) => `${x.id}: ${x.detail}`).join('; ');
    rows.push([
      csvField(g.student, { text: true }),
      ...ids.map((id) => csvField(byId.get(id)?.score)),
      csvField(g.score), csvField(g.maxScore), csvField(g.percent.toFixed(1)),
      csvField(status.length ? status.map((x) => `${x.id}: ${x.status}`).join('; ') : 'graded', { text: true }),
      csvField(errors, { text: true }),
    ].join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
