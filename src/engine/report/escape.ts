// Text that came from a submission (its output, its exceptions, the answers it returned) ends up in
// terminals, XML and Markdown: control characters (ANSI escapes that repaint an instructor's
// terminal, carriage returns that hide a line, characters XML forbids) are shown escaped instead.

/** Control characters other than newline and tab, as \xNN. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Every string inside a value (a grade record), escaped. */
export function escapeDeep<T>(value: T): T {
  if (typeof value === 'string') return escapeControl(value) as T;
  if (Array.isArray(value)) return value.map(escapeDeep) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = escapeDeep(v);
    return out as T;
  }
  return value;
}
