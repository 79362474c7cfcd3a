// `seclab anomaly train|score|eval` as a user runs it (node bin/seclab.js in a child process).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELDS, type FlowRecord } from '../../src/controls/anomaly/index.ts';
import { flow, normalTraffic } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
const seclab = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const T0 = 1_700_000_040;

const awsLine = (r: FlowRecord) => `2 123456789012 eni-0a1b2c3d ${r.srcaddr} ${r.dstaddr} ${r.srcport} ${r.dstport} ${r.protocol} ${r.packets} ${r.bytes} ${r.start} ${r.end} ${r.action} OK`;
const csvLine = (r: FlowRecord) => `${awsLine(r).replace(/ /g, ',')},${r.label}`;

describe('seclab anomaly', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-anomaly-cli-'));
  const normal = normalTraffic('cli-normal', T0, 240);
  const later = normalTraffic('cli-later', T0 + 240 * 60, 60);
  const scan: FlowRecord[] = [];
  for (let p = 1; p <= 80; p++) scan.push(flow('10.0.0.10', '10.0.5.5', T0 + 250 * 60 + (p % 50), { dstport: p, packets: 1, bytes: 44, action: 'REJECT' }));
  writeFileSync(path.join(dir, 'normal.log'), [DEFAULT_FIELDS.join(' '), ...normal.map(awsLine), 'this line is not a record'].join('\n'));
  writeFileSync(path.join(dir, 'quiet.log'), later.map(awsLine).join('\n'));
  writeFileSync(path.join(dir, 'attack.log'), [...later, ...scan].sort((a, b) => a.start - b.start).map(awsLine).join('\n'));
  const labelled = [...normal, ...later].map((r) => ({ ...r, label: 'Benign' })).concat(scan.map((r) => ({ ...r, label: 'Malicious' }))).sort((a, b) => a.start - b.start);
  writeFileSync(path.join(dir, 'labelled.csv'), [`${DEFAULT_FIELDS.join(',')},label`, ...labelled.map((r) => csvLine(r as FlowRecord))].join('\n'));
  const model = path.join(dir, 'model.json');

  it('train writes a versioned model, reporting malformed lines; score alerts on the scan with an explanation (exit 1)', () => {
    const t = seclab(['anomaly', 'train', path.join(dir, 'normal.log'), '--out', model, '--fpr', '0.001']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/normal\.log: 1 of \d+ lines are not flow records and were skipped \(line \d+: \d+ fields, expected 14\)/);
    expect(t.stdout).toMatch(/all windows of the period, assumed normal/);
    expect(JSON.parse(readFileSync(model, 'utf8'))).toMatchObject({ format: 'seclab-anomaly-model', version: 1, windowSeconds: 60, fpr: 0.001 });
    const s = seclab(['anomaly', 'score', path.join(dir, 'attack.log'), '--model', model, '--format', 'json']);
    expect(s.status, s.stderr).toBe(1);
    const out = JSON.parse(s.stdout);
    const hit = out.alerts.find((a: { host: string; windowStart: number }) => a.host === '10.0.0.10' && a.windowStart === T0 + 250 * 60);
    expect(hit.explanation.map((e: { feature: string }) => e.feature)).toContain('dst_ports');
    const text = seclab(['anomaly', 'score', path.join(dir, 'attack.log'), '--model', model, '--kind', 'threshold']);
    expect(text.stdout).toMatch(/10\.0\.0\.10 +score/);
  });

  it('eval prints the three models per capture; --format json', () => {
    const e = seclab(['anomaly', 'eval', path.join(dir, 'labelled.csv'), '--train-fraction', '0.7']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/labelled\.csv +robust +\d\.\d{4}/);
    expect(e.stdout).toMatch(/labelled\.csv +threshold/);
    expect(e.stdout).toMatch(/labelled\.csv +iforest/);
    const j = JSON.parse(seclab(['anomaly', 'eval', path.join(dir, 'labelled.csv'), '--train-fraction', '0.7', '--format', 'json']).stdout);
    expect(j.captures[0].metrics.map((m: { model: string }) => m.model)).toEqual(['robust', 'threshold', 'iforest']);
    expect(j.captures[0].metrics[0].rocAuc).toBeGreaterThan(0.9);
  });

  it('usage errors exit 2 with what to do', () => {
    const cases: string[][] = [
      ['anomaly', 'train', path.join(dir, 'nope.log'), '--out', model],
      ['anomaly', 'train', path.join(dir, 'normal.log')],
      ['anomaly', 'train', path.join(dir, 'normal.log'), '--out', model, '--fpr', '5'],
      ['anomaly', 'train', path.join(dir, 'normal.log'), '--out', model, '--normal', 'labels'],
      ['anomaly', 'train', path.join(dir, 'normal.log'), '--out', model, '--window', 'abc'],
      ['anomaly', 'score', path.join(dir, 'attack.log')],
      ['anomaly', 'score', path.join(dir, 'attack.log'), '--model', path.join(dir, 'normal.log')],
      ['anomaly', 'score', path.join(dir, 'attack.log'), '--model', model, '--kind', 'magic'],
      ['anomaly', 'score', path.join(dir, 'attack.log'), '--model', model, '--format', 'xml'],
      ['anomaly', 'eval', path.join(dir, 'attack.log')],
    ];
    for (const c of cases) expect(seclab(c).status, c.join(' ')).toBe(2);
    const unlabelled = seclab(['anomaly', 'eval', path.join(dir, 'attack.log'), '--json']);
    expect(JSON.parse(unlabelled.stdout).error).toMatchObject({ kind: 'usage', exitCode: 2 });
    expect(unlabelled.stderr).toMatch(/no "label" column/);
    const old = path.join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ ...JSON.parse(readFileSync(model, 'utf8')), version: 0 }));
    expect(seclab(['anomaly', 'score', path.join(dir, 'attack.log'), '--model', old]).stderr).toMatch(/version 0; this seclab reads version 1[\s\S]*retrain/);
  });

  it('exit 0 when quiet traffic raises no alert', () => {
    const s = seclab(['anomaly', 'score', path.join(dir, 'quiet.log'), '--model', model]);
    expect(s.stdout).toMatch(/\d+ alerts? in \d+ host windows/);
    // With a 0.1 % rate on this office's own traffic, an hour more of it stays (almost) quiet: the model
    // carries the hosts' destinations and contact times, so the new file does not start cold.
    expect(s.stdout).toMatch(/^[0-2] alerts? in/m);
    expect(s.status).toBeLessThanOrEqual(1);
  });
});
