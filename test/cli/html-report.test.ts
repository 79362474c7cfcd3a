// The HTML class report, as an instructor gets it: a small class (the reference solution, a partial
// one, the starter, and a hostile one whose folder name and output are HTML) graded on lab iam by
// `seclab grade --submissions … --format html`, then opened in a real headless Chromium with the
// network off: it renders, logs no error, requests nothing, runs nothing the class wrote, and the
// numbers it shows are those of grades.json, computed again here.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import type { CheckGrade, Grade } from '../../src/engine/types.ts';
import { probeSandbox } from '../../src/cloud/sandbox/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EVIL_NAME = '<img src=x onerror=window.__pwned=1>';

/** A Chromium to drive: $SECLAB_CHROMIUM, else the first of the usual names on PATH. */
function findChromium(): string | undefined {
  if (process.env['SECLAB_CHROMIUM']) return process.env['SECLAB_CHROMIUM'];
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}
const CHROMIUM = findChromium();
const NO_CHROMIUM = 'no Chromium found (apt-get install chromium, or set SECLAB_CHROMIUM to a Chromium or Chrome binary): the HTML report is not checked in a browser';

// ---- what the page must show, computed from grades.json independently of the renderer ----

const fmtPct = (x: number) => `${x.toFixed(1)} %`;
function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
/** Checks (posture and business) or attacks of every lab, per `lab/id`: [passed, of] or [blocked, detected, of]. */
function expectations(grades: Grade[]) {
  const checks = new Map<string, { passed: number; of: number }>();
  const attacks = new Map<string, { blocked: number; detected: number; of: number }>();
  const tasks = new Map<string, { done: number; of: number }>();
  for (const g of grades) {
    for (const lab of g.labs) {
      const perTask = new Map<string, boolean>();
      for (const c of lab.checks as CheckGrade[]) {
        const key = `${lab.id}/${c.id}`;
        if (c.kind === 'scenario') {
          const a = attacks.get(key) ?? { blocked: 0, detected: 0, of: 0 };
          a.of++;
          if (c.blocked) a.blocked++;
          if (c.detected) a.detected++;
          attacks.set(key, a);
        } else {
          const x = checks.get(key) ?? { passed: 0, of: 0 };
          x.of++;
          if (c.passed) x.passed++;
          checks.set(key, x);
        }
        if (c.task) perTask.set(c.task, (perTask.get(c.task) ?? true) && c.passed);
      }
      for (const [task, done] of perTask) {
        const t = tasks.get(`${lab.id}/${task}`) ?? { done: 0, of: 0 };
        t.of++;
        if (done) t.done++;
        tasks.set(`${lab.id}/${task}`, t);
      }
    }
  }
  const percents = grades.map((g) => g.percent);
  return { checks, attacks, tasks, mean: percents.reduce((a, x) => a + x, 0) / percents.length, median: medianOf(percents) };
}

describe('the HTML class report', () => {
  let work: string;
  let outDir: string;
  let html: string;
  let grades: Grade[];
  let exitCode: number | null = null;
  let stderr = '';

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'seclab-html-report-'));
    const classDir = path.join(work, 'class');
    outDir = path.join(work, 'out');
    const home = path.join(work, 'home');
    mkdirSync(home);
    const student = (name: string, source: string) => {
      mkdirSync(path.join(classDir, name, 'iam'), { recursive: true });
      writeFileSync(path.join(classDir, name, 'package.json'), '{ "type": "module", "private": true }\n');
      writeFileSync(path.join(classDir, name, 'iam', 'solution.ts'), source);
    };
    const reference = readFileSync(path.join(ROOT, 'solutions/iam/solution.ts'), 'utf8');
    const starter = readFileSync(path.join(ROOT, 'labs/iam/starter/iam/solution.ts'), 'utf8');
    // The reference without its last part: the shared key stays, so the leaked-key attack gets through.
    const cut = reference.indexOf('  // Retire the shared credential');
    const end = reference.indexOf('  void accountId;');
    expect(cut).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(cut);
    student('ref', reference);
    student('keeps-shared-key', reference.slice(0, cut) + reference.slice(end));
    student('starter', starter);
    // Hostile: the folder name, the output and the exception are HTML that would run script.
    student(EVIL_NAME, `${starter.replace('export async function apply', 'export async function unusedApply')}
export async function apply() {
  console.log('</pre><script>window.__pwned = 2</script>');
  throw new Error('<script>window.__pwned = 3</script><img src=y onerror="window.__pwned = 4"><a href="https://example.com/x">');
}
`);
    const sandbox = probeSandbox().kind === 'bwrap' ? [] : ['--no-sandbox'];
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin/seclab.js'), 'grade', '--submissions', classDir, '--lab', 'iam', '--out', outDir,
      '--format', 'json,html,feedback', '--seed', 'html-report', '--timeout', '30', ...sandbox,
    ], { cwd: work, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', SECLAB_GRADE_KEY: 'html-report-test', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    grades = JSON.parse(readFileSync(path.join(outDir, 'grades.json'), 'utf8')) as Grade[];
    html = readFileSync(path.join(outDir, 'report.html'), 'utf8');
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is written beside grades.json, for a class with every kind of outcome', () => {
    expect(exitCode, stderr).toBe(0);
    expect(grades.map((g) => g.student).sort()).toEqual([EVIL_NAME, 'keeps-shared-key', 'ref', 'starter'].sort());
    const by = (n: string) => grades.find((g) => g.student === n)!;
    expect(by('ref').percent).toBe(100);
    expect(by('keeps-shared-key').percent).toBeGreaterThan(0);
    expect(by('keeps-shared-key').percent).toBeLessThan(100);
    expect(by(EVIL_NAME).labs[0]!.status).toBe('crashed');
  });

  it('is self-contained and escapes what students wrote', () => {
    // One script (the page's own), no external resource of any kind.
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
    // The hostile name and messages appear as text only.
    expect(html).not.toContain(EVIL_NAME);
    expect(html).not.toContain('<script>window.__pwned');
    expect(html).not.toContain('<img src=y');
    expect(html).toContain('&lt;img src=x onerror=window.__pwned=1&gt;');
    expect(html).toContain('&lt;script&gt;window.__pwned = 3&lt;/script&gt;');
  });

  describe('in headless Chromium, offline', () => {
    let browser: Browser | undefined;
    let page: Page;
    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    let fileUrl: string;

    beforeAll(async () => {
      if (!CHROMIUM) return;
      const puppeteer = (await import('puppeteer-core')).default;
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        // Root in a container has no user namespace for Chromium's own sandbox.
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-extensions'],
        userDataDir: mkdtempSync(path.join(work, 'chromium-')),
      });
      page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      await page.setOfflineMode(true);
      fileUrl = pathToFileURL(path.join(outDir, 'report.html')).href;
      await page.setRequestInterception(true);
      page.on('request', (r) => {
        requests.push(r.url());
        if (r.url() === fileUrl) void r.continue();
        else void r.abort('blockedbyclient');
      });
      page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') consoleErrors.push(`${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${(e as Error).message}`));
      page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
      await page.goto(fileUrl, { waitUntil: 'load' });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('renders with no console error, no request but the page, and no script of the class', async (ctx) => {
      if (!CHROMIUM) return ctx.skip(NO_CHROMIUM);
      expect(await page.title()).toBe('seclab class report');
      const shown = await page.evaluate(() => ({
        h1: document.querySelector('h1')?.textContent,
        bins: document.querySelectorAll('#score-histogram g.bin').length,
        height: document.body.scrollHeight,
        overflowX: document.documentElement.scrollWidth - window.innerWidth,
        pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
        students: document.querySelectorAll('#students tbody tr').length,
        details: document.querySelectorAll('details.student').length,
      }));
      expect(shown.h1).toBe('seclab class report');
      expect(shown.bins).toBe(10);
      expect(shown.height).toBeGreaterThan(2000);
      expect(shown.overflowX).toBeLessThanOrEqual(0);
      expect(shown.pwned).toBeNull();
      expect(shown.students).toBe(4);
      expect(shown.details).toBe(4);
      const png = await page.screenshot({ fullPage: true });
      expect(png.length).toBeGreaterThan(10_000);
      writeFileSync(path.join(outDir, 'report.png'), png);
      expect(consoleErrors).toEqual([]);
      expect(failedRequests).toEqual([]);
      expect(requests).toEqual([fileUrl]);
      expect(dialogs).toEqual([]);
    });

    it('shows the numbers of grades.json', async (ctx) => {
      if (!CHROMIUM) return ctx.skip(NO_CHROMIUM);
      const exp = expectations(grades);
      const stats = await page.$$eval('[data-stat]', (els) => els.map((e) => ({
        stat: e.getAttribute('data-stat')!, lab: e.getAttribute('data-lab'), check: e.getAttribute('data-check'),
        attack: e.getAttribute('data-attack'), task: e.getAttribute('data-task'), text: (e.textContent ?? '').trim(),
      })));
      const one = (stat: string) => {
        const s = stats.filter((x) => x.stat === stat);
        expect(s, stat).toHaveLength(1);
        return s[0]!.text;
      };
      expect(one('students')).toBe('4');
      expect(one('mean-percent')).toBe(fmtPct(exp.mean));
      expect(one('median-percent')).toBe(fmtPct(exp.median));
      expect(Number(one('passed-all'))).toBe(grades.filter((g) => g.labs.every((l) => l.passed)).length);

      const checkCells = stats.filter((x) => x.stat === 'check-pass-rate');
      expect(checkCells.map((c) => `${c.lab}/${c.check}`).sort()).toEqual([...exp.checks.keys()].sort());
      for (const c of checkCells) {
        const e = exp.checks.get(`${c.lab}/${c.check}`)!;
        expect(c.text, `${c.check} pass rate`).toBe(fmtPct((e.passed / e.of) * 100));
      }
      const blocked = stats.filter((x) => x.stat === 'attack-blocked-rate');
      const detected = stats.filter((x) => x.stat === 'attack-detected-rate');
      expect(blocked.map((c) => `${c.lab}/${c.attack}`).sort()).toEqual([...exp.attacks.keys()].sort());
      expect(detected).toHaveLength(exp.attacks.size);
      for (const c of blocked) {
        const e = exp.attacks.get(`${c.lab}/${c.attack}`)!;
        expect(c.text, `${c.attack} blocked rate`).toBe(fmtPct((e.blocked / e.of) * 100));
      }
      for (const c of detected) {
        const e = exp.attacks.get(`${c.lab}/${c.attack}`)!;
        expect(c.text, `${c.attack} detected rate`).toBe(fmtPct((e.detected / e.of) * 100));
      }
      // The class is varied enough for these to mean something.
      expect(new Set(blocked.map((c) => c.text)).size).toBeGreaterThan(1);
      const taskCells = stats.filter((x) => x.stat === 'task-pass-rate');
      expect(taskCells.map((c) => `${c.lab}/${c.task}`).sort()).toEqual([...exp.tasks.keys()].sort());
      for (const c of taskCells) {
        const e = exp.tasks.get(`${c.lab}/${c.task}`)!;
        expect(c.text, `task ${c.task}`).toBe(fmtPct((e.done / e.of) * 100));
      }
      // The histogram's bars: students per 10 % of score.
      const bins = await page.$$eval('#score-histogram g.bin', (gs) => gs.map((g) => Number(g.getAttribute('data-count'))));
      const want = Array.from({ length: 10 }, () => 0);
      for (const g of grades) want[Math.min(9, Math.floor(g.percent / 10))]!++;
      expect(bins).toEqual(want);
      // Time to detect: a dot per detection with a recorded time, per attack; the histogram counts them all.
      const ttd = new Map<string, number>();
      for (const g of grades) for (const c of g.labs.flatMap((l) => l.checks)) {
        if (c.kind === 'scenario' && c.detected && typeof c.timeToDetectMs === 'number') ttd.set(c.id, (ttd.get(c.id) ?? 0) + 1);
      }
      expect(ttd.size).toBeGreaterThan(0);
      const strips = await page.$$eval('#ttd-strip g.strip', (gs) => gs.map((g) => [g.getAttribute('data-attack')!, g.querySelectorAll('circle.dot').length] as [string, number]));
      expect(new Map(strips)).toEqual(ttd);
      const ttdBars = await page.$$eval('#ttd-histogram g.bin', (gs) => gs.map((g) => Number(g.getAttribute('data-count'))));
      expect(ttdBars.reduce((a, n) => a + n, 0)).toBe([...ttd.values()].reduce((a, n) => a + n, 0));
      // Statuses: one crashed.
      expect(await page.$eval('td[data-stat="status-count"][data-status="crashed"][data-lab="iam"]', (e) => e.textContent)).toBe('1');
    });

    it('drills down to each student\'s feedback, hidden checks marked', async (ctx) => {
      if (!CHROMIUM) return ctx.skip(NO_CHROMIUM);
      const i = grades.findIndex((g) => g.student === 'keeps-shared-key');
      const g = grades[i]!;
      // Following the student's link opens their details.
      await page.click(`#students a[href="#student-${i}"]`);
      await page.waitForFunction((id: string) => (document.getElementById(id) as HTMLDetailsElement | null)?.open === true, {}, `student-${i}`);
      const items = await page.$$eval(`#student-${i} li.check[data-check]`, (lis) => lis.map((li) => ({
        id: li.getAttribute('data-check'), hidden: li.classList.contains('is-hidden'), badge: !!li.querySelector('.badge.hidden'),
        feedback: li.querySelector('pre.fb')?.textContent ?? '', passed: li.getAttribute('data-passed'), visible: (li as HTMLElement).offsetHeight > 0,
      })));
      const checks = g.labs[0]!.checks;
      expect(items.map((x) => x.id).sort()).toEqual(checks.map((c) => c.id).sort());
      for (const c of checks) {
        const it = items.find((x) => x.id === c.id)!;
        expect(it.visible).toBe(true);
        expect(it.hidden, c.id).toBe(c.hidden);
        expect(it.badge, c.id).toBe(c.hidden);
        expect(it.feedback, c.id).toBe(c.feedback);
        expect(it.passed).toBe(String(c.passed));
      }
      expect(checks.some((c) => c.hidden)).toBe(true);
      // The feedback file as sent to the student is there too, identical.
      const sent = readFileSync(path.join(outDir, 'feedback', 'keeps-shared-key.md'), 'utf8');
      expect(await page.$eval(`#student-${i} details.feedback-file pre`, (e) => e.textContent)).toBe(sent);
      // The hostile student's crash is shown as text.
      const j = grades.findIndex((x) => x.student === EVIL_NAME);
      const detail = await page.$eval(`#student-${j} pre.detail`, (e) => e.textContent ?? '');
      expect(detail).toContain('<script>window.__pwned = 3</script>');
      // The filter narrows the list.
      await page.type('#student-filter', 'keeps');
      const visibleRows = await page.$$eval('#students tbody tr', (trs) => trs.filter((t) => !(t as HTMLElement).hidden).length);
      expect(visibleRows).toBe(1);
      // Sorting by a column works and logs nothing.
      await page.click('#students thead th:last-child');
      expect(consoleErrors).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned ?? null)).toBeNull();
      expect(requests).toEqual([fileUrl]);
    });
  });
});
