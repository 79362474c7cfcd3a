import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyProgress, loadProgress, nextHint, progressFile, recordAttempt, saveProgress, updateProgress } from '../../src/engine/progress.ts';
import { writeFileAtomic } from '../../src/engine/workspace.ts';
import { fakeLab, fakeLabGrade, tmpDir } from './fixtures.ts';

describe('progress file', () => {
  it('starts empty when there is none, and round-trips', async () => {
    const ws = tmpDir();
    const p = await loadProgress(ws);
    expect(p).toEqual(emptyProgress());
    recordAttempt(p, fakeLabGrade(), { now: new Date('2025-01-01T00:00:00Z') });
    await saveProgress(ws, p);
    const again = await loadProgress(ws);
    expect(again.labs['iam']).toMatchObject({ lastScore: 20, bestScore: 20, maxScore: 45, passed: false, failingTasks: ['least-privilege'] });
    expect(again.labs['iam']!.history).toEqual([{ at: '2025-01-01T00:00:00.000Z', kind: 'check', score: 20, maxScore: 45, passed: false, codeError: true }]);
  });

  for (const [name, content] of [['not JSON', '{"version": 1, "labs": {'], ['the wrong shape', '{"version": 1, "labs": {"iam": {"passed": "yes"}}}'], ['empty', '']] as const) {
    it(`sets a corrupted file aside (${name}) and starts afresh`, async () => {
      const ws = tmpDir();
      const file = progressFile(ws);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      const warnings: string[] = [];
      const p = await loadProgress(ws, { onWarning: (m) => warnings.push(m), now: new Date('2025-02-03T04:05:06Z') });
      expect(p).toEqual(emptyProgress());
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/damaged.*progress\.json\.corrupt-20250203T040506Z/);
      const backup = `${file}.corrupt-20250203T040506Z`;
      expect(readFileSync(backup, 'utf8')).toBe(content); // nothing lost
      expect(existsSync(file)).toBe(false);
      // a second corruption at the same second gets its own backup
      writeFileSync(file, 'garbage');
      await loadProgress(ws, { now: new Date('2025-02-03T04:05:06Z') });
      expect(readFileSync(`${backup}-1`, 'utf8')).toBe('garbage');
      // and progress can be saved again
      await updateProgress(ws, (q) => recordAttempt(q, fakeLabGrade({ score: 45, passed: true })));
      expect((await loadProgress(ws)).labs['iam']!.passed).toBe(true);
    });
  }

  it('writes atomically: readers never see a partial file, no temporary files remain', async () => {
    const ws = tmpDir();
    const file = path.join(ws, 'data.json');
    const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(200_000 + n) });
    await writeFileAtomic(file, big(0));
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        JSON.parse(readFileSync(file, 'utf8')); // throws on a torn read
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 1; i <= 30; i++) await writeFileAtomic(file, big(i));
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).n).toBe(30);
    expect(readdirSync(ws)).toEqual(['data.json']);
  });

  it('keeps the old file and no temporary file when a write fails', async () => {
    const ws = tmpDir();
    const file = path.join(ws, 'dir-in-the-way');
    mkdirSync(file);
    await expect(writeFileAtomic(file, 'x')).rejects.toThrow();
    expect(readdirSync(ws)).toEqual(['dir-in-the-way']);
  });
});

describe('attempts', () => {
  it('tracks last and best, passes once, and leaves scores alone for partial attacks', () => {
    const p = emptyProgress();
    recordAttempt(p, fakeLabGrade({ score: 30 }));
    recordAttempt(p, fakeLabGrade({ score: 10 }));
    expect(p.labs['iam']).toMatchObject({ lastScore: 10, bestScore: 30, passed: false });
    recordAttempt(p, fakeLabGrade({ score: 45, passed: true }), { kind: 'attack', scenarios: ['leaked-key'] });
    expect(p.labs['iam']).toMatchObject({ lastScore: 10, bestScore: 30, passed: false });
    expect(p.labs['iam']!.history.at(-1)).toMatchObject({ kind: 'attack', scenarios: ['leaked-key'], passed: false });
    recordAttempt(p, fakeLabGrade({ score: 45, passed: true }));
    recordAttempt(p, fakeLabGrade({ score: 0, passed: false }));
    expect(p.labs['iam']).toMatchObject({ lastScore: 0, bestScore: 45, passed: true });
  });
});

describe('hints', () => {
  const lab = fakeLab();
  it('go through the first task with hints left when never checked, and are remembered', () => {
    const p = emptyProgress();
    const seen = [1, 2, 3, 4].map(() => nextHint(p, lab.id, lab.tasks)!).map((h) => `${h.task.id}:${h.text}:${h.reason}`);
    expect(seen).toEqual(['one:one-a:first', 'one:one-b:first', 'two:two-a:first', 'one:one-b:first']);
    expect(p.labs[lab.id]!.hintsSeen).toEqual({ one: 2, two: 1 });
  });

  it('go to the first failing task after a check, or the task asked for', () => {
    const p = emptyProgress();
    recordAttempt(p, { ...fakeLabGrade(), id: lab.id, checks: [{ id: 'c', title: 'c', kind: 'posture', passed: false, points: 0, maxPoints: 1, hidden: false, feedback: '', task: 'two' }] });
    expect(nextHint(p, lab.id, lab.tasks)).toMatchObject({ text: 'two-a', reason: 'failing', number: 1, total: 1, exhausted: false });
    expect(nextHint(p, lab.id, lab.tasks)).toMatchObject({ text: 'two-a', exhausted: true });
    expect(nextHint(p, lab.id, lab.tasks, 'one')).toMatchObject({ text: 'one-a', reason: 'asked' });
    expect(() => nextHint(p, lab.id, lab.tasks, 'nope')).toThrow(/no task "nope"/);
  });
});
