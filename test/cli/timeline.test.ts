// The timeline `seclab check` ends its report with: each attack's start, detection and block in
// lab-clock time from the first attack, within 80 columns, hidden attacks reduced to passed/failed.
import { describe, expect, it } from 'vitest';
import type { CheckGrade } from '../../src/engine/types.ts';
import { attackTimes, clockOffset, renderLabText, renderTimeline } from '../../src/engine/report/text.ts';
import { makeStyle } from '../../src/engine/report/style.ts';
import { fakeLabGrade } from './fixtures.ts';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const min = 60_000;

function attack(over: Partial<CheckGrade> & { id: string }): CheckGrade {
  return {
    title: over.id, kind: 'scenario', passed: false, points: 0, maxPoints: 16, hidden: false, feedback: '', detected: false, blocked: false,
    businessIntact: true, timeToDetectMs: null, timeToRespondMs: null, techniques: [], steps: [], graded: { blocked: true, detected: true }, ...over,
  };
}

const ssh = attack({
  id: 'ssh', title: 'SSH brute force from a rogue address', passed: true, points: 16, detected: true, blocked: true, timeToDetectMs: 42_000, timeToRespondMs: 2 * min,
  steps: [0, 1, 2, 3].map((m) => ({ description: `minute ${m + 1}`, allowed: m < 2, at: T0 + m * min })),
});
const scan = attack({
  id: 'scan', title: 'A port scan from a rogue address, with a title far too long to fit in eighty columns of a terminal', detected: true, timeToDetectMs: 65_000,
  steps: [{ description: 'probe', allowed: true, at: T0 + 12 * min }],
});
// Blocked by refusals only (no response time): blocked from the first of the refused steps that ended it.
const key = attack({
  id: 'key', title: 'Leaked key', passed: true, blocked: true, graded: { blocked: true, detected: false },
  steps: [{ description: 'a', allowed: true, at: T0 + 30 * min }, { description: 'b', allowed: false, errorCode: 'AccessDenied', at: T0 + 30 * min + 5000 }],
});
const hidden = attack({ id: 'secret', title: 'The secret attack', hidden: true, passed: true, blocked: true, steps: [{ description: 'x', allowed: false, at: T0 + 61 * min }] });
const crashed = attack({ id: 'crashed', title: 'Could not run', steps: [] });

describe('the attack timeline', () => {
  it('stays within 80 columns and keeps its columns when attacks run a day of lab time apart', () => {
    const late = attack({ id: 'late', title: 'An SSN and a card number smuggled into a support log', detected: true, steps: [{ description: 'x', allowed: true, at: T0 + 50 * 60 * min }] });
    const lines = renderTimeline([ssh, late], { width: 80 });
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    const row = lines.find((l) => l.includes('smuggled'))!;
    expect(row).toContain('+50:00:00');
    // the header's columns line up with the row's: "started" ends where the start time ends
    const header = lines[1]!;
    expect(header.indexOf('started') + 'started'.length).toBe(row.indexOf('+50:00:00') + '+50:00:00'.length);
  });

  it('formats lab-clock offsets', () => {
    expect(clockOffset(0)).toBe('+0:00');
    expect(clockOffset(42_000)).toBe('+0:42');
    expect(clockOffset(12 * min + 5000)).toBe('+12:05');
    expect(clockOffset(62 * min + 3000)).toBe('+1:02:03');
  });

  it('takes the times from the grade record', () => {
    expect(attackTimes(ssh)).toEqual({ started: T0, detected: T0 + 42_000, blocked: T0 + 2 * min });
    expect(attackTimes(scan)).toEqual({ started: T0 + 12 * min, detected: T0 + 12 * min + 65_000 });
    expect(attackTimes(key)).toEqual({ started: T0 + 30 * min, blocked: T0 + 30 * min + 5000 });
    expect(attackTimes(crashed)).toEqual({});
  });

  it('shows each attack on a line that fits 80 columns', () => {
    const lines = renderTimeline([ssh, scan, key, hidden, crashed], { audience: 'student' });
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    const row = (id: string) => lines.find((l) => l.includes(id))!;
    expect(row('SSH brute force')).toMatch(/SSH brute force from a rogue address\s+\+0:00\s+\+0:42\s+\+2:00$/);
    expect(row('A port scan')).toMatch(/…\s+\+12:00\s+\+13:05\s+—$/);
    // Detection is not graded in that lab: in parentheses.
    expect(row('Leaked key')).toMatch(/Leaked key\s+\+30:00\s+\(—\)\s+\+30:05$/);
    expect(row('Could not run')).toContain('did not run');
    // Students see a hidden attack only as passed or failed.
    expect(lines.join('\n')).not.toContain('The secret attack');
    expect(row('hidden attack')).toContain('hidden check: passed');
    expect(lines.at(-1)).toContain('(…) not graded in this lab');
  });

  it('shows instructors hidden attacks in full, marked', () => {
    const lines = renderTimeline([ssh, hidden], { audience: 'instructor' });
    expect(lines.find((l) => l.includes('The secret attack (hidden)'))).toMatch(/\+1:01:00\s+—\s+\+1:01:00$/);
  });

  it('ends the student report of check (before the score line), colored or not', () => {
    const plain = renderLabText({ ...fakeLabGrade(), scenarios: [ssh, scan, hidden] }, { audience: 'student' }).split('\n');
    const at = plain.findIndex((l) => l.startsWith('Timeline of the attacks'));
    expect(at).toBeGreaterThan(0);
    expect(plain.slice(at).filter((l) => l.startsWith('Score'))).toHaveLength(1);
    expect(plain.at(-1)).toMatch(/^Score /);
    const colored = renderLabText({ ...fakeLabGrade(), scenarios: [ssh, scan] }, { audience: 'student', style: makeStyle(true) });
    // eslint-disable-next-line no-control-regex
    const visible = colored.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
    for (const l of visible.slice(visible.findIndex((x) => x.startsWith('Timeline')))) expect(l.length).toBeLessThanOrEqual(80);
    // Instructors' reports keep their shape unless they ask.
    expect(renderLabText(fakeLabGrade(), { audience: 'instructor' })).not.toContain('Timeline');
  });
});
