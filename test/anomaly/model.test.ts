// The models: save/load round-trip, thresholds that keep the false-positive rate, ROC-AUC, detection.
import { describe, expect, it } from 'vitest';
import { alertsOf, evaluateWindows, explain, extractFeatures, loadModel, MODEL_KINDS, rocAuc, scoreWindow, thresholdFor, trainModel, type FlowRecord } from '../../src/controls/anomaly/index.ts';
import { flow, normalTraffic } from './helpers.ts';

const T0 = 1_700_000_040;

describe('anomaly models', () => {
  // Fifteen hours of one office's normal traffic: the first ten train, the last five are held out.
  const all = extractFeatures(normalTraffic('office-day', T0, 900)).windows;
  const train = all.filter((w) => w.windowEnd <= T0 + 600 * 60);
  const heldOut = all.filter((w) => w.windowStart >= T0 + 600 * 60);
  const model = trainModel(train, { fpr: 0.05, seed: 'model-test' });

  it('save/load round-trip: the loaded model gives identical scores', () => {
    const fresh = heldOut;
    const loaded = loadModel(JSON.parse(JSON.stringify(model)));
    for (const k of MODEL_KINDS) {
      expect(loaded.thresholds[k]).toBe(model.thresholds[k]);
      expect(fresh.map((w) => scoreWindow(loaded, k, w))).toEqual(fresh.map((w) => scoreWindow(model, k, w)));
    }
    expect(loaded.version).toBe(1);
    expect(() => loadModel({ ...model, version: 2 })).toThrow(/version 2; this seclab reads version 1/);
    expect(() => loadModel({ hello: 1 })).toThrow(/not a seclab anomaly model/);
    expect(() => loadModel({ ...model, features: ['x'] })).toThrow(/other features/);
  });

  it('the same seed trains the same isolation forest; another seed another one', () => {
    expect(trainModel(train, { fpr: 0.05, seed: 'model-test' }).models.iforest).toEqual(model.models.iforest);
    expect(trainModel(train, { fpr: 0.05, seed: 'other' }).models.iforest).not.toEqual(model.models.iforest);
  });

  it('the threshold keeps the false-positive rate on held-out normal data from the same seeded generator', () => {
    // Calibration windows: at most fpr of them above the threshold, by construction.
    const cal = train.slice(-model.training.calibrationWindows);
    for (const k of MODEL_KINDS) expect(cal.filter((w) => scoreWindow(model, k, w) > model.thresholds[k]).length).toBeLessThanOrEqual(Math.floor(0.05 * cal.length));
    // Held-out normal traffic never trained on: the rate stays near the target (binomial slack: 3 sd for ~4,000 windows).
    expect(heldOut.length).toBeGreaterThan(3000);
    const slack = 3 * Math.sqrt((0.05 * 0.95) / heldOut.length);
    for (const k of MODEL_KINDS) {
      const rate = heldOut.filter((w) => scoreWindow(model, k, w) > model.thresholds[k]).length / heldOut.length;
      expect(rate, k).toBeLessThan(0.05 + slack);
    }
    expect(thresholdFor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.2)).toBe(8);
    expect(thresholdFor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.01)).toBe(10);
  });

  it('scanning, beaconing and exfiltration from a known host alert with explanations that name what changed', () => {
    const t = T0 + 600 * 60;
    const attack = [];
    for (let p = 1; p <= 60; p++) attack.push(flow('10.0.0.10', '10.0.5.5', t + p % 55, { dstport: p, packets: 1, bytes: 44, action: 'REJECT' }));
    for (let i = 0; i < 40; i++) attack.push(flow('10.0.0.11', '192.0.2.66', t + 120 + i * 15, { bytes: 400, packets: 4 }));
    attack.push(flow('10.0.0.12', '198.51.100.200', t + 1300, { bytes: 900_000_000, packets: 600_000 }));
    const windows = extractFeatures([...normalTraffic('later', t, 30), ...attack]).windows;
    const alerts = alertsOf(model, 'robust', windows);
    const scan = alerts.find((a) => a.host === '10.0.0.10' && a.windowStart === t);
    expect(scan?.explanation.map((e) => e.feature)).toEqual(expect.arrayContaining(['dst_ports']));
    expect(alerts.some((a) => a.host === '10.0.0.11' && a.explanation.some((e) => e.feature === 'beacon_cv' && e.direction === 'below'))).toBe(true);
    const exfil = alerts.find((a) => a.host === '10.0.0.12' && a.windowStart === t + 1260);
    expect(exfil?.explanation[0]).toMatchObject({ direction: 'above' });
    expect(explain(model, windows[0]!, 5)).toHaveLength(5);
  });

  it('ROC-AUC, precision/recall and time to detect on labelled windows', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
    expect(rocAuc([1, 1, 1], [true, false, false])).toBe(0.5);
    expect(rocAuc([1, 2], [true, true])).toBeNaN();
    const t = T0 + 600 * 60;
    const recs: FlowRecord[] = normalTraffic('eval', t, 20).map((r) => ({ ...r, label: 'Benign' as const }));
    for (let p = 1; p <= 40; p++) recs.push({ ...flow('198.51.100.9', '10.0.0.10', t + 600 + p, { dstport: p, packets: 1, bytes: 44, action: 'REJECT' }), label: 'Malicious' });
    const m = evaluateWindows(model, extractFeatures(recs).windows);
    const robust = m.find((x) => x.model === 'robust')!;
    expect(robust.tp).toBe(1);
    expect(robust.rocAuc).toBeGreaterThan(0.9);
    // The scan starts at +601 s; its window closes at +660 s.
    expect(robust.timeToDetectSeconds).toBe(59);
  });

  it('refuses to learn from too little normal traffic, with what to do', () => {
    expect(() => trainModel(train.slice(0, 5))).toThrow(/only 5 normal host windows/);
    expect(() => trainModel(train, { fpr: 2 })).toThrow(/between 0 and 1/);
  });
});
