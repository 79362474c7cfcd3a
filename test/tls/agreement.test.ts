// The prober's findings against independent implementations on the same servers, field by field:
// sslyze (seclab's tools venv) on several servers, testssl.sh (Debian package, slow: one focused run).
// Each is skipped, saying why, when its tool is not installed. bench/tls.ts runs the full comparison.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/controls/tls/index.ts';
import { compareFacts, factsOfProbe, runSslyze, runTestssl, sslyzeAvailable, testsslPath, type Comparison } from './oracles.ts';
import { availableScenarios } from './scenarios.ts';
import { makePki, type Pki } from './servers.ts';

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => pki?.cleanup());

function disagreements(c: Comparison[]): Comparison[] {
  return c.filter((x) => x.agree === false);
}

const SSLYZE_SCENARIOS = ['node-all', 'node-weak', 'node-wrongname', 'node-ecdsa', 'nginx-modern', 'nginx-weak'];
const hasSslyze = sslyzeAvailable();
const hasTestssl = !!testsslPath();

describe(`sslyze ${hasSslyze ? '' : '(skipped: not installed; npx tsx -e "import(\'./scripts/tools.ts\').then(m => m.ensureTool(\'sslyze\'))")'}`, () => {
  for (const sc of availableScenarios().filter((s) => SSLYZE_SCENARIOS.includes(s.name))) {
    it.skipIf(!hasSslyze)(`${sc.name}: protocols, suites per protocol, FS, fallback SCSV, renegotiation, certificate, HSTS agree`, async () => {
      const s = await sc.start(pki);
      try {
        const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: s.httpPort ?? null });
        const theirs = await runSslyze({ name: 'localhost', ip: '127.0.0.1', port: s.port, caFile: pki.caFile });
        const c = compareFacts(factsOfProbe(r), theirs.facts);
        expect(c.length).toBeGreaterThanOrEqual(14);
        expect(disagreements(c)).toEqual([]);
        expect(c.some((x) => x.field.startsWith('suites.'))).toBe(true);
      } finally {
        await s.stop();
      }
    }, 120_000);
  }
});

describe(`testssl.sh ${hasTestssl ? '' : '(skipped: not installed; apt-get install testssl.sh)'}`, () => {
  it.skipIf(!hasTestssl)('node-weak (TLS 1.0 only, CBC/RSA, expired): protocols, FS, chain, host name, expiry, key, signature agree', async () => {
    const sc = availableScenarios().find((x) => x.name === 'node-weak')!;
    const s = await sc.start(pki);
    try {
      const r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: null });
      const theirs = await runTestssl({ name: 'localhost', ip: '127.0.0.1', port: s.port, caFile: pki.caFile });
      const c = compareFacts(factsOfProbe(r), theirs.facts);
      expect(c.map((x) => x.field)).toEqual(expect.arrayContaining(['protocol.TLSv1', 'protocol.TLSv1.2', 'fs', 'certTrusted', 'certExpired', 'certHostnameMatch', 'certKeyBits', 'certSigHash']));
      expect(disagreements(c)).toEqual([]);
    } finally {
      await s.stop();
    }
  }, 300_000);
});
