// `seclab dlp scan` as a user runs it (node bin/seclab.js in a child process).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { withCheckDigit } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
const seclab = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const VISA = withCheckDigit('449283760012345');

describe('seclab dlp scan', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-dlp-cli-'));
  mkdirSync(path.join(dir, 'clean'));
  writeFileSync(path.join(dir, 'clean', 'readme.txt'), 'nothing to see\n');
  writeFileSync(path.join(dir, 'orders.csv'), `order,card number\n17,${VISA}\n`);
  writeFileSync(path.join(dir, 'log.txt.gz'), gzipSync(strToU8('user ssn 219-45-6789\nemployee id EMP-12345\n')));
  writeFileSync(path.join(dir, 'custom.json'), JSON.stringify([{ name: 'employee', regex: 'EMP-[0-9]{5}', keywords: ['employee id'] }]));

  it('reports what it finds per file and where, exits 1, never prints the data', () => {
    const r = seclab(['dlp', 'scan', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/orders\.csv \(text\/csv\): 1 occurrence\n +CREDIT_CARD_NUMBER +1 +row 2 col "card number"/);
    expect(r.stdout).toMatch(/log\.txt\.gz \(application\/gzip\): 1 occurrence/);
    expect(r.stdout).toMatch(/readme\.txt \(text\/plain\): nothing sensitive/);
    expect(r.stdout).not.toContain(VISA);
    expect(r.stdout).not.toContain('219-45-6789');
  });

  it('--format json, custom identifiers, --managed none; exit 0 when clean', () => {
    const r = seclab(['dlp', 'scan', path.join(dir, 'log.txt.gz'), '--managed', 'none', '--custom', path.join(dir, 'custom.json'), '--format', 'json']);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.files[0].detections).toEqual([{ type: 'employee', custom: true, name: 'employee', count: 1, occurrences: { lineRanges: [{ start: 2, end: 2, startColumn: 13 }] } }]);
    expect(seclab(['dlp', 'scan', path.join(dir, 'clean')]).status).toBe(0);
  });

  it('allow lists and usage errors (exit 2)', () => {
    expect(seclab(['dlp', 'scan', path.join(dir, 'orders.csv'), '--allow-regex', `^${VISA}$`]).status).toBe(0);
    expect(seclab(['dlp', 'scan', path.join(dir, 'nope')]).status).toBe(2);
    expect(seclab(['dlp', 'scan', dir, '--managed', 'some']).status).toBe(2);
    expect(seclab(['dlp', 'scan', dir, '--managed', 'include', '--ids', 'NOPE']).status).toBe(2);
  });
});
