// TLS prober benchmark: probe time, and agreement with testssl.sh and sslyze on the same servers.
//
//   npx tsx bench/tls.ts [--rounds 3] [--testssl full|focused|off] [--sslyze on|off] [--scenarios a,b] [--json] [--verbose]
//
// Servers (test/tls/scenarios.ts): Node TLS servers with chosen versions/suites/order/certificates and,
// when nginx is installed, nginx with Mozilla's modern and intermediate profiles and a weak one; an
// internal CA made on the spot. For each: the prober's time (median of --rounds), then each tool's time
// and a field-by-field comparison (protocols offered, suites per protocol, server order and preference
// list with testssl.sh --full, forward secrecy, fallback SCSV, secure renegotiation, certificate chain,
// host name, expiry, key size, signature hash, HSTS). testssl.sh full (-p -f -S -h -E -P) takes about
// 1.5 minutes a server here; --testssl focused (no -E/-P) about 30 s; tools that are missing are skipped
// with the command that installs them.
import { parseArgs } from 'node:util';
import { probe, type ProbeResult } from '../src/controls/tls/index.ts';
import { compareFacts, factsOfProbe, NOT_APPLICABLE, runSslyze, runTestssl, sslyzeAvailable, testsslPath, type Comparison } from '../test/tls/oracles.ts';
import { availableScenarios } from '../test/tls/scenarios.ts';
import { makePki } from '../test/tls/servers.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    testssl: { type: 'string', default: 'full' },
    sslyze: { type: 'string', default: 'on' },
    scenarios: { type: 'string' },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const say = (s = '') => {
  if (!args.json) console.log(s);
};
const rounds = Math.max(1, Number(args.rounds));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);

const useTestssl = args.testssl !== 'off' && !!testsslPath();
const useSslyze = args.sslyze !== 'off' && sslyzeAvailable();
if (args.testssl !== 'off' && !useTestssl) say('testssl.sh not installed: skipped (apt-get install testssl.sh)');
if (args.sslyze !== 'off' && !useSslyze) say('sslyze not installed: skipped (npx tsx -e "import(\'./scripts/tools.ts\').then(m => m.ensureTool(\'sslyze\'))")');

const wanted = args.scenarios?.split(',').map((s) => s.trim());
const scenarios = availableScenarios().filter((s) => !wanted || wanted.includes(s.name));
const pki = makePki();

interface Row {
  scenario: string;
  what: string;
  grade: string;
  handshakes: number;
  probeMs: number;
  tools: Record<string, { ms: number; compared: number; agree: number; notApplicable: number; disagreements: Comparison[] }>;
}
const rows: Row[] = [];

say(`TLS prober vs ${[useTestssl ? `testssl.sh (${args.testssl})` : '', useSslyze ? 'sslyze 6.3.1' : ''].filter(Boolean).join(' and ') || 'nothing'}; ${rounds} probe round${rounds === 1 ? '' : 's'} each`);
say();
for (const sc of scenarios) {
  const s = await sc.start(pki);
  try {
    const times: number[] = [];
    let r: ProbeResult | undefined;
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      r = await probe('127.0.0.1', s.port, { serverName: 'localhost', caFile: pki.caFile, httpPort: s.httpPort ?? null });
      times.push(performance.now() - t);
    }
    const ours = factsOfProbe(r!);
    const row: Row = { scenario: sc.name, what: sc.what, grade: r!.rating.grade === r!.rating.gradeIgnoringTrust ? r!.rating.grade : `${r!.rating.grade} (${r!.rating.gradeIgnoringTrust})`, handshakes: r!.handshakes, probeMs: median(times), tools: {} };
    const tools: [string, () => Promise<{ facts: typeof ours; durationMs: number }>][] = [];
    if (useSslyze) tools.push(['sslyze', () => runSslyze({ name: 'localhost', ip: '127.0.0.1', port: s.port, caFile: pki.caFile })]);
    if (useTestssl) tools.push(['testssl.sh', () => runTestssl({ name: 'localhost', ip: '127.0.0.1', port: s.port, caFile: pki.caFile, full: args.testssl === 'full' })]);
    for (const [name, go] of tools) {
      try {
        const t = await go();
        const c = compareFacts(ours, t.facts);
        row.tools[name] = { ms: t.durationMs, compared: c.length, agree: c.filter((x) => x.agree === true).length, notApplicable: c.filter((x) => x.agree === 'n/a').length, disagreements: c.filter((x) => x.agree !== true) };
        if (args.verbose) for (const x of c) say(`    ${name} ${x.field}: ${x.agree === true ? 'agree' : x.agree} ${JSON.stringify(x.ours)} ${x.agree === true ? '' : `vs ${JSON.stringify(x.theirs)}`}`);
      } catch (e) {
        say(`  ${sc.name}: ${name} failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    rows.push(row);
    const toolText = Object.entries(row.tools).map(([n, t]) => `${n} ${fmt(t.ms)}, ${t.agree}/${t.compared} agree${t.notApplicable ? ` (${t.notApplicable} n/a)` : ''}`).join('; ');
    say(`${sc.name.padEnd(19)} ${row.grade.padEnd(7)} probe ${fmt(row.probeMs).padStart(6)} (${row.handshakes} handshakes)  ${toolText}`);
    for (const [n, t] of Object.entries(row.tools)) for (const d of t.disagreements) say(`    ${n} ${d.field}: ours ${JSON.stringify(d.ours)}, theirs ${JSON.stringify(d.theirs)}${d.agree === 'n/a' ? ' (n/a, below)' : ''}`);
  } finally {
    await s.stop();
  }
}
pki.cleanup();

const total = (name: string) => {
  const ts = rows.map((r) => r.tools[name]).filter((x): x is NonNullable<typeof x> => !!x);
  return { servers: ts.length, compared: ts.reduce((a, t) => a + t.compared, 0), agree: ts.reduce((a, t) => a + t.agree, 0), notApplicable: ts.reduce((a, t) => a + t.notApplicable, 0), disagree: ts.reduce((a, t) => a + t.compared - t.agree - t.notApplicable, 0), ms: ts.reduce((a, t) => a + t.ms, 0) };
};
const probeTotal = rows.reduce((a, r) => a + r.probeMs, 0);
say();
say(`prober: ${rows.length} servers, median probe ${fmt(median(rows.map((r) => r.probeMs)))}, ${fmt(probeTotal)} in all`);
const summary: Record<string, unknown> = { probe: { servers: rows.length, medianMs: Math.round(median(rows.map((r) => r.probeMs))), totalMs: Math.round(probeTotal) } };
for (const name of ['sslyze', 'testssl.sh']) {
  const t = total(name);
  if (!t.servers) continue;
  summary[name] = t;
  say(`${name}: ${t.compared} findings compared on ${t.servers} servers, ${t.agree} agree, ${t.notApplicable} n/a, ${t.disagree} disagree; ${fmt(t.ms)} in all (${(t.ms / Math.max(1, probeTotal)).toFixed(0)}x the prober)`);
}
const naFields = new Set(rows.flatMap((r) => Object.values(r.tools).flatMap((t) => t.disagreements.filter((d) => d.agree === 'n/a').map((d) => d.field))));
for (const f of naFields) say(`n/a ${f}: ${NOT_APPLICABLE[f]}`);
if (args.json) console.log(JSON.stringify({ summary, rows }, null, 2));
