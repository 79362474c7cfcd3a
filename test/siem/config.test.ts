// The SIEM's configuration file: validation with the file, the field and the line; placeholders; rule packs.
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSiemConfig, MAX_CONFIG_BYTES, parseSiemConfig, substitute } from '../../src/controls/siem/config.ts';
import { MAX_CONFINED_FILE_BYTES, MAX_CONFINED_FILES } from '../../src/controls/siem/sigma/ruleset.ts';
import { Siem } from '../../src/controls/siem/siem.ts';

const err = (text: string): string => {
  try {
    parseSiemConfig(text, 'siem/siem.yml', '/tmp');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('siem.yml', () => {
  it('accepts a full configuration and fills the defaults', () => {
    const c = parseSiemConfig(
      [
        'sources:',
        '  - { name: trail, type: cloudtrail, s3: { bucket: "trail-${accountId}" }, lookback: 5m }',
        '  - { name: flows, type: vpcflow, logGroup: /vpc/flows, format: "${version} ${srcaddr} ${dstaddr}" }',
        '  - { name: app, type: logs, logGroupPrefix: /app/, startAt: now }',
        'rules:',
        '  folders: [rules]',
        '  disable: { some-rule: too noisy here }',
        'channels:',
        '  - { name: secops, type: sns, topicArn: "arn:aws:sns:${region}:${accountId}:alerts", minSeverity: high }',
        'alerting: { dedupWindow: 10m, throttle: { maxAlerts: 5, window: 1h }, minLevel: low }',
      ].join('\n'),
      'siem/siem.yml',
      '/ws/siem',
    );
    expect(c.sources.map((s) => s.name)).toEqual(['trail', 'flows', 'app']);
    expect(c.sources[0]!.lookback).toBe(300_000);
    expect(c.rules.bundled).toBe(true);
    expect(c.rules.folders).toEqual(['/ws/siem/rules']);
    expect(c.rules.disable.get('some-rule')).toBe('too noisy here');
    expect(c.alerting).toEqual({ minLevel: 'low', dedupWindowMs: 600_000, throttle: { maxAlerts: 5, windowMs: 3_600_000 }, maxEventsPerAlert: undefined });
    expect(c.channels[0]!.minSeverity).toBe('high');
  });

  it('names the file, the field and the line of every problem', () => {
    expect(err('sources:\n  - name: a\n    type: cloudtrial\n    logGroup: x\n')).toBe('siem/siem.yml: sources[0].type: expected one of "cloudtrail", "vpcflow", "logs" (line 3)');
    expect(err('sources:\n  - name: a\n    type: cloudtrail\n    logGroup: 3\n')).toBe('siem/siem.yml: sources[0].logGroup: expected string, received number (line 4)');
    expect(err('sources:\n  - name: a\n    type: cloudtrail\n')).toMatch(/^siem\/siem.yml: sources\[0\]: missing a location: s3 .* \(line 2\)$/);
    expect(err('sources:\n  - name: a\n    type: cloudtrail\n    logGroup: x\n    s3: {bucket: b}\n')).toMatch(/sources\[0\]\.logGroup: give one location, not s3 and logGroup/);
    expect(err('sources:\n  - {name: a, type: logs, logGroup: x, lookback: 5x}\n')).toMatch(/sources\[0\]\.lookback: expected a duration such as 30s, 5m/);
    expect(err('sources: []\nchanels: []\n')).toBe('siem/siem.yml: unknown setting(s) "chanels" (line 1)');
    expect(err('alerting:\n  throttle: {maxAlerts: 2}\n')).toBe('siem/siem.yml: alerting.throttle.window: missing (mandatory) (line 2)');
    expect(err('channels:\n  - {name: a, type: email, topicArn: x}\n')).toMatch(/channels\[0\]\.type: expected one of "sns" \(line 2\)|channels\[0\]\.type: .*sns/);
    expect(err('sources:\n  - {name: a, type: logs, logGroup: x}\n  - {name: a, type: logs, logGroup: y}\n')).toBe('siem/siem.yml: sources[1].name: "a" is already the name of another source (line 3)');
    expect(err('sources: [\n')).toMatch(/^siem\/siem.yml: invalid YAML: .*\(line \d+\)$/);
    expect(err('sources:\n  - {name: a, type: logs, logGroup: x, format: "${srcaddr}"}\n')).toMatch(/sources\[0\]\.format: only vpcflow sources have a format/);
  });

  it('says when the file is missing', () => {
    expect(() => loadSiemConfig('/nonexistent/siem.yml', 'siem/siem.yml')).toThrow('siem/siem.yml: no such file');
  });

  it('replaces ${accountId} and ${region}, and refuses unknown placeholders', () => {
    const vars = { accountId: '111122223333', region: 'eu-west-1' };
    expect(substitute('arn:aws:sns:${region}:${accountId}:secops', vars, 'x')).toBe('arn:aws:sns:eu-west-1:111122223333:secops');
    expect(() => substitute('trail-${acountId}', vars, 'sources[0].s3.bucket')).toThrow('sources[0].s3.bucket: unknown placeholder ${acountId}');
    expect(() => substitute('${accountId}', { region: 'eu-west-1' }, 'x')).toThrow('${accountId} has no value');
  });

  it('never reads the environment: ${env:NAME} is refused where it is written, with its line', () => {
    process.env['SECLAB_TEST_SECRET'] = 'grader-secret';
    try {
      // Refused when the file is read, by field and line, whatever the grader's environment holds.
      const refused = err('channels:\n  - name: a\n    type: sns\n    topicArn: "arn:aws:sns:us-east-1:1:${env:SECLAB_TEST_SECRET}"\n');
      expect(refused).toBe(
        'siem/siem.yml: channels[0].topicArn: environment variables (${env:NAME}) are not supported: the configuration is read by the grader, whose environment is not yours to read; write the value itself (line 4)',
      );
      expect(refused).not.toContain('grader-secret');
      expect(err('sources:\n  - {name: a, type: logs, logGroup: "/x/${ env:HOME }"}\n')).toMatch(/sources\[0\]\.logGroup: environment variables .* not supported.*\(line 2\)$/);
      expect(err('sources:\n  - {name: a, type: cloudtrail, s3: {bucket: "b", prefix: "${env.PATH}"}}\n')).toMatch(/sources\[0\]\.s3\.prefix: environment variables/);
      expect(err('sources:\n  - {name: a, type: logs, logGroup: "/x/${acountId}"}\n')).toBe(
        'siem/siem.yml: sources[0].logGroup: unknown placeholder ${acountId} (known: ${accountId}, ${region}) (line 2)',
      );
      // A value built in code (not through the file) is refused by substitute itself.
      expect(() => substitute('${env:SECLAB_TEST_SECRET}', { accountId: '1' }, 'x')).toThrow('x: environment variables (${env:NAME}) are not supported');
    } finally {
      delete process.env['SECLAB_TEST_SECRET'];
    }
  });

  it('keeps rule folders inside the folder of the configuration, links included', () => {
    expect(err('rules:\n  folders: [../../solutions/siem/rules]\n')).toBe(
      'siem/siem.yml: rules.folders[0]: "../../solutions/siem/rules" is outside the folder of siem/siem.yml: keep your rules next to it (for example folders: [rules]) (line 2)',
    );
    expect(err('rules:\n  folders: [rules, /etc]\n')).toMatch(/rules\.folders\[1\]: "\/etc" is outside/);
    const outside = mkdtempSync(path.join(os.tmpdir(), 'seclab-outside-'));
    writeFileSync(
      path.join(outside, 'reference.yml'),
      'title: Reference rule\nid: 5f0c1a52-5b1e-4f39-9d57-0d3c4c2f8a11\nlogsource: { product: aws, service: cloudtrail }\ndetection:\n  s: { eventName: X }\n  condition: s\n',
    );
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-siemcfg-'));
    symlinkSync(outside, path.join(dir, 'rules'));
    writeFileSync(path.join(dir, 'siem.yml'), 'rules:\n  bundled: false\n  folders: [rules]\n');
    const siem = new Siem(loadSiemConfig(path.join(dir, 'siem.yml'), 'siem/siem.yml'));
    expect(siem.rules()).toEqual([]);
    expect(siem.problems().join('\n')).toMatch(/leads outside the folder of the configuration/);
  });

  it('bounds what a workspace makes the grader read: configuration size, custom rules, rule files and their size', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-siembudget-'));
    writeFileSync(path.join(dir, 'big.yml'), `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    expect(() => loadSiemConfig(path.join(dir, 'big.yml'), 'siem/siem.yml')).toThrow('siem/siem.yml: larger than 1 MiB');
    const custom = Array.from({ length: 201 }, (_, i) => `    - { title: r${i}, logsource: { product: aws }, detection: { s: { a: 1 }, condition: s } }`).join('\n');
    expect(err(`rules:\n  custom:\n${custom}\n`)).toMatch(/rules\.custom: at most 200 custom rules/);
    mkdirSync(path.join(dir, 'rules'));
    const ruleText = (i: number) => `title: Rule ${i}\nlogsource: { product: aws, service: cloudtrail }\ndetection:\n  s: { eventName: E${i} }\n  condition: s\n`;
    for (let i = 0; i < MAX_CONFINED_FILES + 5; i++) writeFileSync(path.join(dir, 'rules', `r${String(i).padStart(4, '0')}.yml`), ruleText(i));
    writeFileSync(path.join(dir, 'rules', 'a-huge.yml'), ruleText(9999) + `# ${'x'.repeat(MAX_CONFINED_FILE_BYTES)}\n`);
    writeFileSync(path.join(dir, 'siem.yml'), 'rules:\n  bundled: false\n  folders: [rules]\n');
    const siem = new Siem(loadSiemConfig(path.join(dir, 'siem.yml'), 'siem/siem.yml'));
    expect(siem.rules()).toHaveLength(MAX_CONFINED_FILES - 1); // a-huge.yml counts as one of the files read
    expect(siem.problems()).toContain('a-huge.yml: larger than 256 KiB: not loaded');
    expect(siem.problems().join('\n')).toMatch(/more than 200 rule files: this one and the rest are not loaded/);
  });

  it('loads the bundled pack, workspace rule folders and custom rules together, reporting broken rules by file and field', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'siem-config-'));
    mkdirSync(path.join(dir, 'rules'));
    writeFileSync(path.join(dir, 'rules', 'mine.yml'), [
      'title: Many Denied Calls (mine)',
      'id: 7f0c2f6e-0000-4000-8000-000000000001',
      'correlation: { type: event_count, rules: [seclab_access_denied], group-by: [userIdentity.arn], timespan: 2m, condition: { gte: 3 } }',
      'tags: [attack.discovery, attack.t1580]',
      'level: high',
    ].join('\n'));
    writeFileSync(path.join(dir, 'rules', 'broken.yml'), 'title: Broken\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName|foo: x\n  condition: sel\n');
    writeFileSync(path.join(dir, 'siem.yml'), [
      'rules:',
      '  folders: [rules]',
      '  disable: [no-such-rule]',
      '  custom:',
      '    - title: Inline rule',
      '      logsource: { product: aws, service: cloudtrail }',
      '      detection: { sel: { eventName|bar: x }, condition: sel }',
    ].join('\n'));
    const siem = new Siem(loadSiemConfig(path.join(dir, 'siem.yml'), 'siem/siem.yml'));
    const rules = siem.rules();
    expect(rules.find((r) => r.title === 'Many Denied Calls (mine)')).toMatchObject({ kind: 'correlation', alerting: true, pack: 'workspace rules' });
    expect(rules.some((r) => r.source.startsWith('sigmahq/'))).toBe(true);
    const problems = siem.problems();
    expect(problems).toContain('broken.yml: detection.sel.eventName|foo: unknown modifier "foo" (line 5)');
    expect(problems.find((p) => p.includes('rules.custom[0]'))).toMatch(/^siem\/siem.yml: rules.custom\[0\]: detection.sel.eventName\|bar: unknown modifier "bar" \(line 5\)$/);
    expect(problems).toContain('siem/siem.yml: rules.disable: no rule has the id or name "no-such-rule"');
  });

  it('can leave the bundled pack out', () => {
    const siem = new Siem(parseSiemConfig('rules: { bundled: false }', 'siem.yml', '/tmp'));
    expect(siem.rules()).toEqual([]);
  });
});
