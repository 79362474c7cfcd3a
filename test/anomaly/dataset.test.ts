// The model on the labelled Stratosphere captures in ../shared/datasets/flows/derived/ (time split:
// trained on the early part's Benign windows, evaluated on the later part). Skips when the data is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evaluateCapture, parseFlowLog } from '../../src/controls/anomaly/index.ts';

const DIR = resolve(fileURLToPath(new URL('../../../shared/datasets/flows/derived', import.meta.url)));
const captures = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('_labeled.csv')).sort() : [];

describe.skipIf(!captures.length)('anomaly model on the labelled Stratosphere captures', () => {
  for (const f of captures) {
    it(`${f}: every record parses; ours reaches ROC-AUC 0.97 and beats both baselines on the later part`, () => {
      const p = parseFlowLog(readFileSync(join(DIR, f)));
      expect(p.malformed).toBe(0);
      expect(p.labelled).toBe(true);
      const e = evaluateCapture(p.records, { windowSeconds: 60, fpr: 0.01, trainFraction: 0.5 });
      expect(e.evalWindows.malicious).toBeGreaterThan(100);
      expect(e.evalWindows.benign).toBeGreaterThan(100);
      const m = Object.fromEntries(e.metrics.map((x) => [x.model, x]));
      expect(m['robust']!.rocAuc).toBeGreaterThanOrEqual(0.97);
      expect(m['robust']!.rocAuc).toBeGreaterThan(m['threshold']!.rocAuc);
      expect(m['robust']!.rocAuc).toBeGreaterThan(m['iforest']!.rocAuc);
      // The threshold was set for 1 % on earlier normal windows; on later ones it may drift, not explode.
      expect(m['robust']!.fprMeasured).toBeLessThan(0.05);
      expect(m['robust']!.timeToDetectSeconds).not.toBeNull();
    });
  }
  it('the AWS text-format copy reads to the same records as its CSV', () => {
    const log = readdirSync(DIR).find((f) => f.endsWith('.log'));
    if (!log) return;
    const csv = parseFlowLog(readFileSync(join(DIR, log.replace(/\.log$/, '_labeled.csv'))));
    const aws = parseFlowLog(readFileSync(join(DIR, log)));
    expect(aws.malformed).toBe(0);
    expect(aws.records).toEqual(csv.records.map(({ label: _l, ...r }) => r));
  });
});

it.skipIf(captures.length > 0)('anomaly dataset tests skipped: no labelled flows at ../shared/datasets/flows/derived', () => {});
