import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/cli/render.ts';
import { colorEnabled } from '../../src/engine/report/style.ts';

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
});
