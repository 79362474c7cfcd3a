// The bundled rule pack, and the shared datasets: the 57 SigmaHQ rules load and compile; the Stratus Red Team
// captures raise alerts with the right tactic. Tests that need ../shared/datasets skip when it is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SiemEngine } from '../../src/controls/siem/engine.ts';
import { parseLogData } from '../../src/controls/siem/events.ts';
import { BUNDLED_RULES_DIR, loadBundledRules } from '../../src/controls/siem/pack.ts';
import { tacticFamily, tacticSlug } from '../../src/controls/siem/sigma/attack.ts';
import { loadRuleSet } from '../../src/controls/siem/sigma/ruleset.ts';
import { SIGMA_DATASET, STRATUS_DATASET, parseCsv } from './helpers.ts';

const sigmaPresent = existsSync(SIGMA_DATASET);
const stratusPresent = existsSync(join(STRATUS_DATASET, 'labels.csv'));
if (!sigmaPresent) console.warn(`skipping the SigmaHQ dataset tests: ${SIGMA_DATASET} not found`);
if (!stratusPresent) console.warn(`skipping the Stratus Red Team tests: ${STRATUS_DATASET} not found`);

describe('the 57 SigmaHQ AWS CloudTrail rules of the dataset', () => {
  it.skipIf(!sigmaPresent)('all load and compile', () => {
    const files = readdirSync(SIGMA_DATASET).filter((f) => f.endsWith('.yml'));
    expect(files).toHaveLength(57);
    const rs = loadRuleSet(SIGMA_DATASET);
    expect(rs.errors.map((e) => e.message)).toEqual([]);
    expect(rs.detections).toHaveLength(57);
  });

  it.skipIf(!sigmaPresent)('are the same rule files as the bundled SigmaHQ pack (which comes from the public repository)', () => {
    const bundled = readdirSync(join(BUNDLED_RULES_DIR, 'sigmahq')).filter((f) => f.endsWith('.yml')).sort();
    expect(bundled).toEqual(readdirSync(SIGMA_DATASET).filter((f) => f.endsWith('.yml')).sort());
  });
});

describe('the bundled pack', () => {
  const pack = loadBundledRules();
  it('loads without errors', () => {
    expect(pack.errors.map((e) => e.message)).toEqual([]);
    expect(pack.detections.filter((r) => r.source.startsWith('sigmahq/'))).toHaveLength(57);
  });

  it('keeps the attribution of every SigmaHQ rule (author, source URL, DRL 1.1)', () => {
    for (const r of pack.detections.filter((r) => r.source.startsWith('sigmahq/'))) {
      expect(r.author, r.source).toBeTruthy();
      expect(r.license, r.source).toBe('DRL-1.1');
      expect(r.url, r.source).toMatch(new RegExp(`/rules/cloud/aws/cloudtrail/${basename(r.source)}$`));
    }
    expect(readFileSync(join(BUNDLED_RULES_DIR, 'sigmahq', 'LICENSE.DRL-1.1.md'), 'utf8')).toContain('Detection Rule License (DRL) 1.1');
  });

  it('tags every alerting seclab rule with an ATT&CK tactic and technique', () => {
    const ours = pack.rules.filter((r) => r.source.startsWith('seclab/') && r.standalone);
    expect(ours.length).toBeGreaterThan(30);
    for (const r of ours) {
      expect(r.attack.tactics.length, r.title).toBeGreaterThan(0);
      expect(r.attack.techniques.length, r.title).toBeGreaterThan(0);
    }
  });

  it('documents why each disabled rule is disabled', () => {
    const disabled = pack.rules.filter((r) => r.disabled);
    expect(disabled.length).toBeGreaterThan(0);
    for (const r of disabled) expect(r.disabled!.length).toBeGreaterThan(20);
  });

  it.skipIf(!stratusPresent)('raises an alert with the labelled tactic on at least 90 % of the Stratus captures (user agent stripped)', () => {
    const lines = parseCsv(readFileSync(join(STRATUS_DATASET, 'labels.csv'), 'utf8'));
    let hit = 0;
    const missed: string[] = [];
    for (const { file, mitre_tactics: tactics } of lines) {
      const path = join(STRATUS_DATASET, basename(file!));
      const events = parseLogData(readFileSync(path), path).events.map((e) => {
        const ua = e.fields['userAgent'];
        return typeof ua === 'string' ? { ...e, fields: { ...e.fields, userAgent: ua.replace(/stratus-red-team_[0-9a-f-]{36}/g, '').trim() } } : e;
      });
      const want = new Set((tactics ?? '').split(/[;|]/).flatMap((t) => tacticFamily(tacticSlug(t) ?? t)));
      const alerts = new SiemEngine(pack).run(events);
      if (alerts.some((a) => a.attack.tactics.some((t) => want.has(t)))) hit++;
      else missed.push(basename(file!));
    }
    expect(hit / lines.length, `missed: ${missed.join(', ')}`).toBeGreaterThanOrEqual(0.9);
  });
});
