// The class report for instructors: ONE self-contained HTML page (inline CSS, SVG and a small script,
// nothing fetched: it opens offline and from an e-mail attachment). Score distribution, pass rate per
// check and per task, blocked and detected rates per attack, time-to-detect distribution, statuses,
// and a drill-down per student with the feedback the student got (hidden checks marked).
//
// Everything in a grade record may come from a submission (its folder name, its output, its
// exceptions): every string goes through esc(), ids are indexes, never names; and the page's
// Content-Security-Policy allows only its own script (by hash) and no request at all, so a string that
// escaped escaping still could not run or call home.
import { createHash } from 'node:crypto';
import type { CheckGrade, Grade, LabGrade, LabStatus } from '../types.ts';
import { codeErrors, partsOf, statusOf } from './record.ts';
import { renderFeedback } from './feedback.ts';

export interface HtmlReportOptions {
  /** Page title (default "seclab class report"). */
  title?: string;
  /** When the report was made: shown when given (by default the page depends on the grades only, so a merged run's report is a single run's). */
  generatedAt?: Date;
}

// ---- escaping and formatting ----

const esc = (value: unknown): string => htmlEscape(value);

/** Text for HTML content and quoted attribute values; control characters shown as \xNN. */
export function htmlEscape(value: unknown): string {
  return String(value ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\uD800-\uDFFF]/g, (c, i: number, s: string) => {
      // Lone surrogates are not text; pairs are kept.
      const code = c.charCodeAt(0);
      if (code <= 0xdbff) { const next = s.charCodeAt(i + 1); return next >= 0xdc00 && next <= 0xdfff ? c : '\uFFFD'; }
      const prev = s.charCodeAt(i - 1);
      return prev >= 0xd800 && prev <= 0xdbff ? c : '\uFFFD';
    })
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** 72.5 % (one decimal). */
const pct = (x: number): string => `${x.toFixed(1)} %`;
const rate = (n: number, d: number) => (d > 0 ? (n / d) * 100 : 0);

/** Lab-clock durations: 850 ms, 12.5 s, 4 min 10 s. */
function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s ? `${m} min ${s} s` : `${m} min`;
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0);

// ---- statistics ----

export interface RateRow { lab: string; id: string; title: string; kind: string; task?: string; hidden: boolean; passed: number; of: number; maxPoints: number }
export interface AttackRow extends RateRow { blocked: number; detected: number; gradedBlocked: boolean; gradedDetected: boolean; ttd: number[]; techniques: string[] }
export interface TaskRow { lab: string; task: string; checks: number; passed: number; of: number }

export interface ClassStats {
  students: number;
  meanPercent: number;
  medianPercent: number;
  meanScore: number;
  /** The maximum score when every student had the same one. */
  maxScore?: number;
  passedAll: number;
  labs: { id: string; title: string; of: number; meanPercent: number; medianPercent: number; passed: number }[];
  checks: RateRow[];
  tasks: TaskRow[];
  attacks: AttackRow[];
  statuses: { lab: string; counts: Record<LabStatus, number> }[];
  /** Every detected attack's time to detect, ms. */
  ttd: number[];
}

const STATUSES: LabStatus[] = ['graded', 'crashed', 'timed out', 'did not compile', 'isolation violation', 'not graded'];
const labStatus = (l: LabGrade): LabStatus => l.status ?? statusOf(l).status;

export function classStats(grades: Grade[]): ClassStats {
  const labIds: string[] = [];
  const titles = new Map<string, string>();
  for (const g of grades) for (const l of g.labs) if (!titles.has(l.id)) { labIds.push(l.id); titles.set(l.id, l.title); }
  const checks = new Map<string, RateRow>();
  const attacks = new Map<string, AttackRow>();
  const tasks = new Map<string, TaskRow>();
  const statuses = new Map<string, Record<LabStatus, number>>(labIds.map((id) => [id, Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<LabStatus, number>]));
  const ttd: number[] = [];
  for (const g of grades) {
    for (const l of g.labs) {
      statuses.get(l.id)![labStatus(l)]++;
      const { posture, scenarios, business } = partsOf(l);
      for (const c of [...posture, ...business]) {
        const key = `${l.id}\u0000${c.id}`;
        const row = checks.get(key) ?? { lab: l.id, id: c.id, title: c.title, kind: c.kind, task: c.task, hidden: c.hidden, passed: 0, of: 0, maxPoints: c.maxPoints };
        row.of++;
        if (c.passed) row.passed++;
        checks.set(key, row);
      }
      for (const c of scenarios) {
        const key = `${l.id}\u0000${c.id}`;
        const row = attacks.get(key) ?? {
          lab: l.id, id: c.id, title: c.title, kind: c.kind, hidden: c.hidden, passed: 0, of: 0, maxPoints: c.maxPoints, blocked: 0, detected: 0,
          gradedBlocked: c.graded?.blocked ?? true, gradedDetected: c.graded?.detected ?? false, ttd: [], techniques: c.techniques ?? [],
        };
        row.of++;
        if (c.passed) row.passed++;
        if (c.blocked) row.blocked++;
        if (c.detected) {
          row.detected++;
          if (typeof c.timeToDetectMs === 'number') { row.ttd.push(c.timeToDetectMs); ttd.push(c.timeToDetectMs); }
        }
        attacks.set(key, row);
      }
      // A task is done when every one of its checks passed.
      const byTask = new Map<string, CheckGrade[]>();
      for (const c of l.checks) if (c.task) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
      for (const [task, cs] of byTask) {
        const key = `${l.id}\u0000${task}`;
        const row = tasks.get(key) ?? { lab: l.id, task, checks: cs.length, passed: 0, of: 0 };
        row.of++;
        if (cs.every((c) => c.passed)) row.passed++;
        tasks.set(key, row);
      }
    }
  }
  const percents = grades.map((g) => g.percent);
  const maxes = [...new Set(grades.map((g) => g.maxScore))];
  return {
    students: grades.length,
    meanPercent: mean(percents),
    medianPercent: median(percents),
    meanScore: mean(grades.map((g) => g.score)),
    ...(maxes.length === 1 ? { maxScore: maxes[0] } : {}),
    passedAll: grades.filter((g) => g.labs.length > 0 && g.labs.every((l) => l.passed)).length,
    labs: labIds.map((id) => {
      const ls = grades.flatMap((g) => g.labs.filter((l) => l.id === id));
      const ps = ls.map((l) => rate(l.score, l.maxScore));
      return { id, title: titles.get(id)!, of: ls.length, meanPercent: mean(ps), medianPercent: median(ps), passed: ls.filter((l) => l.passed).length };
    }),
    checks: [...checks.values()],
    tasks: [...tasks.values()],
    attacks: [...attacks.values()],
    statuses: labIds.map((lab) => ({ lab, counts: statuses.get(lab)! })),
    ttd,
  };
}

// ---- charts (inline SVG) ----

interface Bin { label: string; count: number; title?: string }

function histogram(bins: Bin[], opts: { id: string; xLabel: string; yLabel: string; width?: number }): string {
  const W = opts.width ?? 640;
  const H = 220;
  const left = 40, right = 10, top = 16, bottom = 46;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const bw = (W - left - right) / Math.max(1, bins.length);
  const y = (n: number) => top + (H - top - bottom) * (1 - n / max);
  const ticks = [...new Set([0, Math.round(max / 2), max])];
  const parts: string[] = [];
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}"/>`);
    parts.push(`<text class="tick" x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  bins.forEach((b, i) => {
    const x = left + i * bw;
    const h = H - bottom - y(b.count);
    parts.push(`<g class="bin" data-bin="${i}" data-count="${b.count}"><title>${esc(b.title ?? b.label)}: ${b.count}</title>`
      + `<rect x="${(x + 2).toFixed(1)}" y="${y(b.count).toFixed(1)}" width="${Math.max(1, bw - 4).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}"/>`
      + (b.count ? `<text class="count" x="${(x + bw / 2).toFixed(1)}" y="${(y(b.count) - 4).toFixed(1)}" text-anchor="middle">${b.count}</text>` : '')
      + `<text class="tick" x="${(x + bw / 2).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle">${esc(b.label)}</text></g>`);
  });
  parts.push(`<line class="axis" x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}"/>`);
  parts.push(`<text class="label" x="${(left + (W - left - right) / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text class="label" transform="translate(12 ${((H - bottom + top) / 2).toFixed(1)}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  return `<svg id="${esc(opts.id)}" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.xLabel)}">${parts.join('')}</svg>`;
}

/** Percent bins 0–10 … 90–100 (100 in the last). */
function percentBins(percents: number[]): Bin[] {
  const bins: Bin[] = Array.from({ length: 10 }, (_, i) => ({ label: `${i * 10}–${i * 10 + 10}`, title: `${i * 10} % to ${i === 9 ? 'and with 100' : `under ${i * 10 + 10}`} %`, count: 0 }));
  for (const p of percents) bins[Math.min(9, Math.max(0, Math.floor(p / 10)))]!.count++;
  return bins;
}

// Upper bounds, inclusive: lab-clock times fall on whole minutes, and "within 5 min" includes 5 min.
const TTD_EDGES: [number, string][] = [[1000, '≤ 1 s'], [10_000, '≤ 10 s'], [60_000, '≤ 1 min'], [120_000, '≤ 2 min'], [300_000, '≤ 5 min'], [600_000, '≤ 10 min'], [1_800_000, '≤ 30 min'], [Infinity, '> 30 min']];

function ttdBins(ms: number[]): Bin[] {
  const bins: Bin[] = TTD_EDGES.map(([, label]) => ({ label, count: 0 }));
  for (const x of ms) bins[TTD_EDGES.findIndex(([edge]) => x <= edge)]!.count++;
  return bins;
}

const TTD_TICKS: [number, string][] = [[1000, '≤ 1 s'], [10_000, '10 s'], [60_000, '1 min'], [300_000, '5 min'], [600_000, '10 min'], [1_800_000, '30 min'], [3_600_000, '1 h'], [7_200_000, '2 h'], [21_600_000, '6 h'], [86_400_000, '1 day']];

/** Time to detect per attack: a row per attack, a dot per detection on a log axis, the median as a bar. */
function ttdStrip(rows: AttackRow[]): string {
  const shown = rows.filter((r) => r.ttd.length);
  if (!shown.length) return '';
  const W = 640, left = 190, right = 20, top = 8, rowH = 24, axisH = 40;
  const H = top + shown.length * rowH + axisH;
  const maxMs = Math.max(60_000, ...shown.flatMap((r) => r.ttd));
  const hi = TTD_TICKS.find(([t]) => t >= maxMs)?.[0] ?? maxMs;
  const x = (ms: number) => left + (W - left - right) * (Math.log10(Math.max(1000, ms) / 1000) / Math.log10(hi / 1000));
  const parts: string[] = [];
  for (const [t, label] of TTD_TICKS.filter(([t]) => t <= hi)) {
    parts.push(`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${H - axisH}"/><text class="tick" x="${x(t).toFixed(1)}" y="${H - axisH + 14}" text-anchor="middle">${esc(label)}</text>`);
  }
  shown.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const name = r.id.length > 28 ? `${r.id.slice(0, 27)}…` : r.id;
    const m = median(r.ttd);
    parts.push(`<g class="strip" data-lab="${esc(r.lab)}" data-attack="${esc(r.id)}" data-count="${r.ttd.length}"><title>${esc(r.title)}: median ${fmtDuration(m)} over ${r.ttd.length} detection${r.ttd.length === 1 ? '' : 's'}</title>`
      + `<text class="tick" x="${left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(r.lab)}/${esc(name)}</text>`
      + `<line class="axis" x1="${left}" x2="${W - right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke-dasharray="2 3"/>`
      + r.ttd.map((v) => `<circle class="dot" cx="${x(v).toFixed(1)}" cy="${y.toFixed(1)}" r="4"/>`).join('')
      + `<line class="median" x1="${x(m).toFixed(1)}" x2="${x(m).toFixed(1)}" y1="${(y - 8).toFixed(1)}" y2="${(y + 8).toFixed(1)}"/></g>`);
  });
  parts.push(`<text class="label" x="${(left + (W - left - right) / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">time to detect (lab clock, log scale); a dot per detection, a bar at the median</text>`);
  return `<svg id="ttd-strip" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="time to detect per attack">${parts.join('')}</svg>`;
}

function bar(value: number, cls = ''): string {
  return `<span class="bar ${cls}" aria-hidden="true"><span style="width:${Math.max(0, Math.min(100, value)).toFixed(1)}%"></span></span>`;
}

/** A rate cell: the percentage (what tests and people read), n/N and a bar. */
function rateCell(stat: string, n: number, of: number, attrs = '', extra = '', graded = true): string {
  const r = rate(n, of);
  return `<td class="rate${graded ? '' : ' ungraded'}" data-sort="${r.toFixed(3)}"><span class="num" data-stat="${stat}"${attrs}>${pct(r)}</span> <span class="of">${n}/${of}</span>${bar(r, !graded ? '' : r >= 80 ? 'good' : r >= 50 ? 'mid' : 'low')}${extra}</td>`;
}

// ---- the page ----

const mark = (p: boolean) => (p ? '<span class="ok" title="passed">✔</span>' : '<span class="ko" title="failed">✘</span>');
const hiddenBadge = '<span class="badge hidden" title="a hidden check: the student saw only whether it passed">hidden</span>';

function statusBadge(s: LabStatus): string {
  return `<span class="badge st-${s.replace(/ /g, '-')}">${esc(s)}</span>`;
}

function checkItem(c: CheckGrade): string {
  const pts = c.maxPoints > 0 ? ` <span class="pts">${c.points}/${c.maxPoints}</span>` : '';
  let head = `${mark(c.passed)}${pts} <b>${esc(c.title)}</b>${c.hidden ? ` ${hiddenBadge}` : ''}`;
  if (c.kind === 'scenario') {
    const ttd = c.detected && typeof c.timeToDetectMs === 'number' ? ` in ${fmtDuration(c.timeToDetectMs)}` : '';
    head += ` <span class="outcome">— ${c.blocked ? 'blocked' : 'not blocked'}${c.graded?.blocked === false ? ' (not graded)' : ''}, ${c.detected ? `detected${ttd}` : 'not detected'}${c.graded?.detected === false ? ' (not graded)' : ''}${c.businessIntact === false ? ', legitimate work broken' : ''}</span>`;
  }
  const body = c.feedback ? `<pre class="fb">${esc(c.feedback)}</pre>` : '';
  const steps = c.kind === 'scenario' && c.steps?.length
    ? `<ul class="steps">${c.steps.map((s) => `<li class="${s.allowed ? 'allowed' : 'refused'}">${s.allowed ? '✘ allowed' : '✔ refused'} ${esc(s.description)}${s.errorCode ? ` <code>${esc(s.errorCode)}</code>` : ''}</li>`).join('')}</ul>`
    : '';
  return `<li class="check${c.hidden ? ' is-hidden' : ''}" data-check="${esc(c.id)}" data-passed="${c.passed}">${head}${body}${steps}</li>`;
}

function labDetail(l: LabGrade): string {
  const { status, detail } = statusOf(l);
  const out: string[] = [`<section class="lab"><h4>${esc(l.id)}: ${esc(l.title)} — ${l.score}/${l.maxScore}${l.passed ? ' <span class="ok">✔ passed</span>' : ''} ${statusBadge(l.status ?? status)}</h4>`];
  if (detail) out.push(`<pre class="detail">${esc(l.statusDetail ?? detail)}</pre>`);
  if (l.violations?.length) out.push(`<p><b>Isolation violations</b></p><ul class="violations">${l.violations.map((v) => `<li>${esc(v)}</li>`).join('')}</ul>`);
  if (l.error) out.push(`<p class="ko"><b>This lab could not be graded:</b> ${esc(l.error)}</p>`);
  const errors = codeErrors(l);
  if (errors.length) out.push(`<h5>Their code</h5><ul class="code">${errors.map((e) => `<li><pre class="fb"><span class="ko">✘</span> ${esc(e)}</pre></li>`).join('')}</ul>`);
  else if (l.student.length) out.push(`<p class="muted">Their code ran: ${l.student.map((r) => `${esc(r.export)}() ${fmtDuration(r.durationMs)}`).join(', ')}</p>`);
  const { posture, scenarios, business } = partsOf(l);
  if (posture.length) out.push(`<h5>Controls</h5><ul class="checks">${posture.map(checkItem).join('')}</ul>`);
  if (scenarios.length) out.push(`<h5>Attacks</h5><ul class="checks">${scenarios.map(checkItem).join('')}</ul>`);
  const refused = l.businessBroken && business.every((c) => c.passed) ? `<li class="check business-broken" data-passed="false">${mark(false)} <b>${esc(l.businessBroken)}</b></li>` : '';
  if (business.length || refused) out.push(`<h5>Legitimate work (must keep working)</h5><ul class="checks">${business.map(checkItem).join('')}${refused}</ul>`);
  out.push('</section>');
  return out.join('');
}

const SCRIPT = `'use strict';
(function () {
  var $ = function (s, r) { return Array.prototype.slice.call((r || document).querySelectorAll(s)); };
  // Sortable tables: click a header.
  $('table.sortable').forEach(function (table) {
    $('th', table).forEach(function (th, col) {
      th.tabIndex = 0;
      var sort = function () {
        var body = table.tBodies[0];
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        $('th', table).forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var key = function (tr) {
          var td = tr.cells[col];
          if (!td) return '';
          var v = td.getAttribute('data-sort');
          return v === null ? td.textContent.trim().toLowerCase() : Number(v);
        };
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * dir; });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
    });
  });
  // Student filter.
  var filter = document.getElementById('student-filter');
  if (filter) filter.addEventListener('input', function () {
    var q = filter.value.trim().toLowerCase();
    $('#students tbody tr').forEach(function (tr) { tr.hidden = q !== '' && tr.getAttribute('data-name').indexOf(q) < 0; });
    $('details.student').forEach(function (d) { d.hidden = q !== '' && d.getAttribute('data-name').indexOf(q) < 0; });
  });
  // Drill-down: a link to a student opens their details.
  var open = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === 'DETAILS') el.open = true;
  };
  window.addEventListener('hashchange', open);
  open();
  $('button[data-details]').forEach(function (b) {
    b.addEventListener('click', function () {
      var on = b.getAttribute('data-details') === 'open';
      $('details.student').forEach(function (d) { if (!d.hidden) d.open = on; });
    });
  });
})();
`;

const STYLE = `
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3; --bg: #fff; --soft: #f4f6f8; --ok: #1a7f37; --ko: #c62828; --mid: #b26b00; --accent: #2f5fa7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; } h4 { font-size: 14px; margin: 12px 0 6px; } h5 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); }
.muted, .of { color: var(--muted); } .of { font-size: 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .big { font-size: 22px; font-weight: 600; display: block; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
.chart { width: 100%; max-width: 640px; height: auto; display: block; }
.chart rect { fill: var(--accent); } .chart .grid { stroke: var(--line); } .chart .axis { stroke: var(--muted); }
.chart .dot { fill: var(--accent); fill-opacity: 0.45; } .chart .median { stroke: var(--fg); stroke-width: 2; }
.chart text { font-size: 11px; fill: var(--muted); } .chart .count { fill: var(--fg); font-weight: 600; } .chart .label { font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; cursor: pointer; white-space: nowrap; user-select: none; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.rate { white-space: nowrap; min-width: 170px; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.num { font-variant-numeric: tabular-nums; font-weight: 600; }
.bar { display: inline-block; width: 70px; height: 8px; background: var(--soft); border: 1px solid var(--line); border-radius: 4px; margin-left: 6px; vertical-align: middle; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--accent); } .bar.good > span { background: var(--ok); } .bar.mid > span { background: var(--mid); } .bar.low > span { background: var(--ko); }
td.ungraded .num, td.ungraded .of { color: var(--muted); font-weight: 400; } td.ungraded .bar > span { background: #aab3bd; }
.ok { color: var(--ok); } .ko { color: var(--ko); }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; border: 1px solid var(--line); background: var(--soft); color: var(--muted); font-weight: 500; vertical-align: 1px; }
.badge.hidden { background: #efe6fb; border-color: #cdb6ef; color: #5b2d91; }
.badge.st-crashed, .badge.st-timed-out, .badge.st-did-not-compile { background: #fff4e0; border-color: #f0c77a; color: #8a5300; }
.badge.st-isolation-violation, .badge.st-not-graded { background: #fde8e8; border-color: #f1a9a9; color: var(--ko); }
.badge.st-graded { display: none; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 2px 0 4px; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre.fb { color: var(--muted); } pre.detail { background: #fff4e0; padding: 4px 8px; border-radius: 4px; }
ul.checks, ul.code { list-style: none; padding-left: 4px; margin: 4px 0; } li.check { margin: 3px 0; } li.check.is-hidden { background: #f7f2fd; }
.pts { font-variant-numeric: tabular-nums; color: var(--muted); } .outcome { color: var(--muted); }
ul.steps { margin: 0 0 4px 18px; padding: 0; font-size: 12px; } li.allowed { color: var(--ko); } li.refused { color: var(--ok); }
details.student { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; padding: 4px 10px; }
details.student > summary { cursor: pointer; font-weight: 600; }
details.status-list > summary { cursor: pointer; margin: 4px 0; }
details.feedback-file { margin: 8px 0; } details.feedback-file pre { background: var(--soft); padding: 8px; border-radius: 4px; color: var(--fg); }
input#student-filter { padding: 4px 8px; width: 260px; max-width: 100%; border: 1px solid var(--line); border-radius: 4px; }
button { font: inherit; padding: 3px 10px; border: 1px solid var(--line); background: var(--soft); border-radius: 4px; cursor: pointer; }
footer { max-width: 1200px; margin: 30px auto; padding: 0 20px; color: var(--muted); font-size: 12px; }
@media print { details.student { break-inside: avoid; } button, input { display: none; } }
`;

export function renderHtmlReport(grades: Grade[], opts: HtmlReportOptions = {}): string {
  const st = classStats(grades);
  const title = opts.title ?? 'seclab class report';
  const graded = grades.map((g) => g.startedAt).sort()[0];
  const labIds = st.labs.map((l) => l.id);
  const versions = [...new Set(grades.map((g) => g.version))];
  const seeds = [...new Set(grades.map((g) => g.seed).filter((s): s is string => !!s))];
  const targets = [...new Set(grades.map((g) => g.target))];
  const body: string[] = [];

  // Summary.
  const statusTotals = Object.fromEntries(STATUSES.map((s) => [s, st.statuses.reduce((a, x) => a + x.counts[s], 0)])) as Record<LabStatus, number>;
  const troubled = STATUSES.filter((s) => s !== 'graded' && statusTotals[s] > 0);
  body.push('<section id="summary"><div class="cards">',
    `<div class="card"><span class="big" data-stat="students">${st.students}</span>students</div>`,
    `<div class="card"><span class="big" data-stat="mean-percent">${pct(st.meanPercent)}</span>mean score${st.maxScore !== undefined ? ` <span class="muted">(<span data-stat="mean-score">${st.meanScore.toFixed(1)}</span> / ${st.maxScore})</span>` : ''}</div>`,
    `<div class="card"><span class="big" data-stat="median-percent">${pct(st.medianPercent)}</span>median score</div>`,
    `<div class="card"><span class="big" data-stat="passed-all">${st.passedAll}</span>passed every lab (full marks)</div>`,
    `<div class="card"><span class="big" data-stat="troubled">${troubled.reduce((a, s) => a + statusTotals[s], 0)}</span>lab gradings ${troubled.length ? `not simply graded: ${troubled.map((s) => `${statusTotals[s]} ${esc(s)}`).join(', ')}` : 'not simply graded'}</div>`,
    '</div></section>');

  // Score distribution.
  body.push('<section id="distribution"><h2>Score distribution</h2><div class="grid2">',
    `<div><h3>All labs (percent of the maximum)</h3>${histogram(percentBins(grades.map((g) => g.percent)), { id: 'score-histogram', xLabel: 'score, % of the maximum', yLabel: 'students' })}</div>`);
  if (st.labs.length > 1) {
    for (const l of st.labs) {
      const ps = grades.flatMap((g) => g.labs.filter((x) => x.id === l.id).map((x) => rate(x.score, x.maxScore)));
      body.push(`<div><h3>${esc(l.id)}: ${esc(l.title)}</h3>${histogram(percentBins(ps), { id: `score-histogram-${labIds.indexOf(l.id)}`, xLabel: `${l.id} score, %`, yLabel: 'students' })}</div>`);
    }
  }
  body.push('</div>');
  body.push('<table class="sortable" id="labs"><thead><tr><th>lab</th><th>students</th><th>mean</th><th>median</th><th>passed (full marks)</th></tr></thead><tbody>');
  for (const l of st.labs) {
    body.push(`<tr data-lab="${esc(l.id)}"><td>${esc(l.id)}: ${esc(l.title)}</td><td class="n">${l.of}</td><td class="n" data-sort="${l.meanPercent}"><span class="num" data-stat="lab-mean-percent" data-lab="${esc(l.id)}">${pct(l.meanPercent)}</span></td><td class="n" data-sort="${l.medianPercent}"><span class="num" data-stat="lab-median-percent" data-lab="${esc(l.id)}">${pct(l.medianPercent)}</span></td>${rateCell('lab-pass-rate', l.passed, l.of, ` data-lab="${esc(l.id)}"`)}</tr>`);
  }
  body.push('</tbody></table></section>');

  // Checks and tasks, per lab.
  body.push('<section id="checks"><h2>Checks</h2><p class="muted">Pass rate over the students graded on the lab, lowest first. Legitimate-work (business) checks earn no points; when one fails, restrictive controls and attacks earn nothing.</p>');
  for (const lab of st.labs) {
    const rows = st.checks.filter((c) => c.lab === lab.id).map((c, i) => ({ c, i })).sort((a, b) => rate(a.c.passed, a.c.of) - rate(b.c.passed, b.c.of) || a.i - b.i);
    body.push(`<h3>${esc(lab.id)}: ${esc(lab.title)}</h3><table class="sortable checks-table" data-lab="${esc(lab.id)}"><thead><tr><th>check</th><th>kind</th><th>task</th><th>points</th><th>pass rate</th></tr></thead><tbody>`);
    for (const { c } of rows) {
      body.push(`<tr data-check="${esc(c.id)}"><td>${esc(c.title)}${c.hidden ? ` ${hiddenBadge}` : ''}<br><code class="muted">${esc(c.id)}</code></td><td>${esc(c.kind === 'business' ? 'legitimate work' : 'control')}</td><td>${esc(c.task ?? '')}</td><td class="n">${c.maxPoints}</td>${rateCell('check-pass-rate', c.passed, c.of, ` data-lab="${esc(c.lab)}" data-check="${esc(c.id)}"`)}</tr>`);
    }
    body.push('</tbody></table>');
    const tasks = st.tasks.filter((t) => t.lab === lab.id);
    if (tasks.length) {
      body.push(`<h4>Tasks of ${esc(lab.id)}</h4><p class="muted">A task is done when every one of its checks passed (hidden ones included).</p><table class="sortable tasks-table" data-lab="${esc(lab.id)}"><thead><tr><th>task</th><th>checks</th><th>done by</th></tr></thead><tbody>`);
      for (const t of tasks) body.push(`<tr data-task="${esc(t.task)}"><td>${esc(t.task)}</td><td class="n">${t.checks}</td>${rateCell('task-pass-rate', t.passed, t.of, ` data-lab="${esc(t.lab)}" data-task="${esc(t.task)}"`)}</tr>`);
      body.push('</tbody></table>');
    }
  }
  body.push('</section>');

  // Attacks.
  body.push('<section id="attacks"><h2>Attacks</h2><p class="muted">How many students\' controls blocked each attack, and how many detected it. An outcome a lab does not grade is marked "not graded". Time to detect: lab-clock time from the first attack step to the first detection signal, over the students who detected it.</p>');
  body.push('<table class="sortable" id="attacks-table"><thead><tr><th>attack</th><th>lab</th><th>blocked</th><th>detected</th><th>full points</th><th>time to detect (median, min–max)</th></tr></thead><tbody>');
  for (const a of st.attacks) {
    const ng = (graded: boolean) => (graded ? '' : ' <span class="badge" title="this lab does not grade this outcome">not graded</span>');
    const t = a.ttd.length ? `<span data-stat="attack-ttd-median" data-lab="${esc(a.lab)}" data-attack="${esc(a.id)}">${fmtDuration(median(a.ttd))}</span> <span class="of">(${fmtDuration(Math.min(...a.ttd))}–${fmtDuration(Math.max(...a.ttd))}, ${a.ttd.length})</span>` : '<span class="muted">—</span>';
    body.push(`<tr data-attack="${esc(a.id)}"><td>${esc(a.title)}${a.hidden ? ` ${hiddenBadge}` : ''}<br><code class="muted">${esc(a.id)}</code>${a.techniques.length ? ` <span class="of">${a.techniques.map(esc).join(', ')}</span>` : ''}</td><td>${esc(a.lab)}</td>`
      + rateCell('attack-blocked-rate', a.blocked, a.of, ` data-lab="${esc(a.lab)}" data-attack="${esc(a.id)}"`, ng(a.gradedBlocked), a.gradedBlocked)
      + rateCell('attack-detected-rate', a.detected, a.of, ` data-lab="${esc(a.lab)}" data-attack="${esc(a.id)}"`, ng(a.gradedDetected), a.gradedDetected)
      + rateCell('attack-pass-rate', a.passed, a.of, ` data-lab="${esc(a.lab)}" data-attack="${esc(a.id)}"`)
      + `<td data-sort="${a.ttd.length ? median(a.ttd) : -1}">${t}</td></tr>`);
  }
  body.push('</tbody></table>');
  body.push(`<h3>Time to detect</h3><p class="muted">${st.ttd.length} detection${st.ttd.length === 1 ? '' : 's'} with a recorded time${st.ttd.length ? `; median <span data-stat="ttd-median">${fmtDuration(median(st.ttd))}</span>` : ''}.</p>`);
  body.push(`<div class="grid2"><div>${histogram(ttdBins(st.ttd), { id: 'ttd-histogram', xLabel: 'time to detect (lab clock)', yLabel: 'detections' })}</div><div>${ttdStrip(st.attacks)}</div></div>`);
  body.push('</section>');

  // Statuses.
  body.push('<section id="statuses"><h2>What happened to the code</h2><table id="status-table"><thead><tr><th>lab</th>', ...STATUSES.map((s) => `<th>${esc(s)}</th>`), '</tr></thead><tbody>');
  for (const s of st.statuses) body.push(`<tr data-lab="${esc(s.lab)}"><td>${esc(s.lab)}</td>${STATUSES.map((x) => `<td class="n" data-stat="status-count" data-status="${esc(x)}" data-lab="${esc(s.lab)}">${s.counts[x]}</td>`).join('')}</tr>`);
  body.push('</tbody></table>');
  const odd = grades.flatMap((g, i) => g.labs.filter((l) => labStatus(l) !== 'graded').map((l) => ({ g, i, l })));
  if (odd.length) {
    body.push(`<details class="status-list"${odd.length <= 20 ? ' open' : ''}><summary>${odd.length} lab grading${odd.length === 1 ? '' : 's'} not simply graded</summary>`);
    body.push('<table id="status-list" class="sortable"><thead><tr><th>student</th><th>lab</th><th>status</th><th>detail</th></tr></thead><tbody>');
    for (const { g, i, l } of odd) body.push(`<tr><td><a href="#student-${i}">${esc(g.student)}</a></td><td>${esc(l.id)}</td><td>${statusBadge(labStatus(l))}</td><td><pre class="fb">${esc(l.statusDetail ?? statusOf(l).detail ?? '')}</pre></td></tr>`);
    body.push('</tbody></table></details>');
  }
  body.push('</section>');

  // Students.
  body.push('<section id="students-section"><h2>Students</h2><p><input id="student-filter" type="search" placeholder="filter by name" aria-label="filter students by name"> <button type="button" data-details="open">open all</button> <button type="button" data-details="close">close all</button></p>');
  body.push(`<table class="sortable" id="students"><thead><tr><th>student</th>${labIds.map((id) => `<th>${esc(id)}</th>`).join('')}<th>total</th><th>percent</th></tr></thead><tbody>`);
  grades.forEach((g, i) => {
    const by = new Map(g.labs.map((l) => [l.id, l]));
    const cells = labIds.map((id) => {
      const l = by.get(id);
      if (!l) return '<td class="n" data-sort="-1"></td>';
      const s = labStatus(l);
      return `<td class="n" data-sort="${rate(l.score, l.maxScore)}">${l.passed ? '<span class="ok">' : '<span>'}${l.score}/${l.maxScore}</span>${s !== 'graded' ? ` ${statusBadge(s)}` : ''}</td>`;
    });
    body.push(`<tr data-name="${esc(g.student.toLowerCase())}" data-student="${i}"><td><a href="#student-${i}">${esc(g.student)}</a></td>${cells.join('')}<td class="n" data-sort="${g.score}">${g.score}/${g.maxScore}</td><td class="n" data-sort="${g.percent}"><span data-stat="student-percent">${pct(g.percent)}</span></td></tr>`);
  });
  body.push('</tbody></table>');
  body.push('<h3>Drill-down</h3><p class="muted">Each student\'s labs as graded: the feedback they got, with the checks hidden from them included and marked <span class="badge hidden">hidden</span>. Below it, their feedback file exactly as sent (hidden checks left out).</p>');
  grades.forEach((g, i) => {
    const statuses = g.labs.map(labStatus).filter((s) => s !== 'graded');
    body.push(`<details class="student" id="student-${i}" data-name="${esc(g.student.toLowerCase())}"><summary>${esc(g.student)} — ${g.score}/${g.maxScore} (${pct(g.percent)})${[...new Set(statuses)].map((s) => ` ${statusBadge(s)}`).join('')}</summary>`);
    body.push(`<p class="muted">Graded ${esc(g.startedAt)} on ${esc(g.target)} with seclab ${esc(g.version)}${g.seed ? `, seed <code>${esc(g.seed)}</code>` : ''}; workspace <code>${esc(g.workspace)}</code>${g.signature ? '; signed' : '; not signed'}.</p>`);
    for (const l of g.labs) body.push(labDetail(l));
    body.push(`<details class="feedback-file"><summary>The feedback file as the student got it</summary><pre>${esc(renderFeedback(g))}</pre></details>`);
    body.push('</details>');
  });
  body.push('</section>');

  const hash = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="seclab ${esc(versions.join(', '))}">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${esc(title)}</h1>
<p class="muted">${st.students} student${st.students === 1 ? '' : 's'} · labs ${labIds.map(esc).join(', ') || '—'} · graded with seclab ${esc(versions.join(', '))} on ${esc(targets.join(', '))}${seeds.length ? ` · seed${seeds.length > 1 ? 's' : ''} ${seeds.map((s) => `<code>${esc(s)}</code>`).join(', ')}` : ''}${graded ? ` · graded ${esc(graded)}` : ''}${opts.generatedAt ? ` · report made ${esc(opts.generatedAt.toISOString())}` : ''}</p>
<nav class="muted"><a href="#distribution">scores</a> · <a href="#checks">checks</a> · <a href="#attacks">attacks</a> · <a href="#statuses">statuses</a> · <a href="#students-section">students</a></nav>
</header>
<main>
${body.join('\n')}
</main>
<footer>Made by seclab from the signed grade records (grades.json). Self-contained: opens without a network.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
