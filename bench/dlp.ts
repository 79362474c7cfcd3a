// DLP engine accuracy and speed: `npm run bench:dlp [-- <dataset-dir>] [--mb 4]`.
// dataset-dir defaults to ../shared/datasets/dlp/ beside the repository (never copied into it), holding:
//   synth_dataset_v2*.json               Microsoft presidio-research synthetic sentences with spans (MIT)
//   presidio_recognizer_vectors.jsonl    Presidio recognizer unit-test vectors (MIT)
//   test_pans/test_pans_flat.csv         published Adyen/Stripe test PANs + Luhn-failing variants (MIT)
// Per identifier: precision, recall and F1. Predictions and labelled spans of the same type are paired
// one-to-one (exact spans first, then by largest overlap; see matchSpans): a prediction counts for at most
// one label and a label is found by at most one prediction. Then PAN recall and NOT_PAN rejection, generated digit-run decoys, and throughput.
// Skips with a message when the folder is absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findSensitiveData, scanObject, scanText, type ScanOptions } from '../src/controls/dlp/index.ts';
import { findAddresses } from '../src/controls/dlp/people.ts';
import { matchSpans } from './dlp-match.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args, positionals } = parseArgs({ allowPositionals: true, options: { mb: { type: 'string', default: '4' } } });
const dir = resolve(positionals[0] ?? join(REPO, '..', 'shared', 'datasets', 'dlp'));
const ALL: ScanOptions = { managed: { selection: 'ALL' } };

/** Engine id -> dataset label. */
const LABEL: Record<string, string> = {
  CREDIT_CARD_NUMBER: 'CREDIT_CARD',
  'CREDIT_CARD_NUMBER_(NO_KEYWORD)': 'CREDIT_CARD',
  USA_SOCIAL_SECURITY_NUMBER: 'US_SSN',
  EMAIL_ADDRESS: 'EMAIL_ADDRESS',
  PHONE_NUMBER: 'PHONE_NUMBER',
  INTERNATIONAL_BANK_ACCOUNT_NUMBER: 'IBAN_CODE',
  NAME: 'PERSON',
  ADDRESS: 'STREET_ADDRESS',
};
const LABELS = ['CREDIT_CARD', 'US_SSN', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'IBAN_CODE', 'PERSON', 'STREET_ADDRESS'];

interface Counts { tp: number; fp: number; fn: number; gold: number }
const zero = (): Counts => ({ tp: 0, fp: 0, fn: 0, gold: 0 });

function score(counts: Map<string, Counts>, text: string, gold: { label: string; s: number; e: number }[], only?: string) {
  const pred = findSensitiveData(text, ALL).flatMap((m) => (LABEL[m.type] ? [{ label: LABEL[m.type]!, s: m.start, e: m.end }] : [])).filter((p) => !only || p.label === only);
  for (const label of new Set([...pred.map((p) => p.label), ...gold.map((g) => g.label)])) {
    const ps = pred.filter((p) => p.label === label);
    const gs = gold.filter((g) => g.label === label);
    const tp = matchSpans(ps, gs);
    const c = counts.get(label) ?? zero();
    counts.set(label, c);
    c.tp += tp;
    c.fp += ps.length - tp;
    c.fn += gs.length - tp;
    c.gold += gs.length;
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '   n/a');
function table(title: string, counts: Map<string, Counts>) {
  console.log(`\n${title}`);
  console.log(`  ${'label'.padEnd(14)} ${'gold'.padStart(5)} ${'pred'.padStart(5)} ${'precision'.padStart(10)} ${'recall'.padStart(8)} ${'F1'.padStart(7)}`);
  for (const l of LABELS) {
    const c = counts.get(l);
    if (!c) continue;
    const p = c.tp / (c.tp + c.fp);
    const r = c.tp / c.gold;
    const f = (2 * p * r) / (p + r);
    console.log(`  ${l.padEnd(14)} ${String(c.gold).padStart(5)} ${String(c.tp + c.fp).padStart(5)} ${pct(p).padStart(10)} ${pct(r).padStart(8)} ${(Number.isFinite(f) ? f.toFixed(3) : 'n/a').padStart(7)}`);
  }
}

if (!existsSync(dir)) {
  console.log(`bench:dlp: no dataset folder at ${dir}: accuracy skipped (give a path: npm run bench:dlp -- <dir>)`);
} else {
  // 1. presidio-research synthetic sentences
  for (const f of readdirSync(dir).filter((n) => /^synth_dataset.*\.json$/.test(n))) {
    const recs = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { full_text: string; spans: { entity_type: string; start_position: number; end_position: number }[] }[];
    const counts = new Map<string, Counts>();
    for (const r of recs) score(counts, r.full_text, r.spans.filter((s) => LABELS.includes(s.entity_type)).map((s) => ({ label: s.entity_type, s: s.start_position, e: s.end_position })));
    table(`${f}: ${recs.length} sentences (presidio-research, MIT)`, counts);
    // NAME reports full names only (as Macie): its recall on the labels that are full names (2+ words).
    // ADDRESS follows Macie's rule (a city and a postal code after the street): the street line alone, for comparison.
    let full = 0, fullHit = 0;
    const street = new Map<string, Counts>();
    for (const r of recs) {
      const names = findSensitiveData(r.full_text, ALL).filter((m) => m.type === 'NAME').map((m) => ({ s: m.start, e: m.end }));
      const gold = r.spans.filter((s) => s.entity_type === 'PERSON' && /\S\s+\S/.test(r.full_text.slice(s.start_position, s.end_position))).map((s) => ({ s: s.start_position, e: s.end_position }));
      full += gold.length;
      fullHit += matchSpans(names, gold);
      const ps = findAddresses(r.full_text, { requirePostal: false }).map((c) => ({ s: c.start, e: c.end }));
      const gs = r.spans.filter((s) => s.entity_type === 'STREET_ADDRESS').map((s) => ({ s: s.start_position, e: s.end_position }));
      const tp = matchSpans(ps, gs);
      const c = street.get('STREET_ADDRESS') ?? zero();
      street.set('STREET_ADDRESS', c);
      c.tp += tp; c.fp += ps.length - tp; c.fn += gs.length - tp; c.gold += gs.length;
    }
    console.log(`  PERSON labels of 2+ words (full names): NAME found ${fullHit}/${full} = ${pct(fullHit / full)}`);
    table('  STREET_ADDRESS against the street line alone (no city and postal code required: not Macie\'s rule)', street);
  }
  // 2. Presidio recognizer vectors: each line is scored for its own entity type only
  const vf = join(dir, 'presidio_recognizer_vectors.jsonl');
  if (existsSync(vf)) {
    const lines = readFileSync(vf, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { entity_type: string; text: string; expected_spans: [number, number][] });
    const counts = new Map<string, Counts>();
    for (const v of lines) score(counts, v.text, v.expected_spans.map(([s, e]) => ({ label: v.entity_type, s, e })), v.entity_type);
    table(`presidio_recognizer_vectors.jsonl: ${lines.length} vectors (Presidio unit tests, MIT; negatives count as false positives when flagged)`, counts);
    // The SSN vectors are bare numbers; Macie (and this engine) report an SSN only with a keyword in proximity.
    // With "SSN: " put in front, the same vectors measure the format and validity rules.
    const ssn = new Map<string, Counts>();
    for (const v of lines.filter((x) => x.entity_type === 'US_SSN')) score(ssn, `SSN: ${v.text}`, v.expected_spans.map(([s, e]) => ({ label: v.entity_type, s: s + 5, e: e + 5 })), v.entity_type);
    table('  the US_SSN vectors with the keyword "SSN: " in front', ssn);
  }
  // 3. test PANs, raw / spaced / dashed, alone and in a sentence
  const pf = join(dir, 'test_pans', 'test_pans_flat.csv');
  if (existsSync(pf)) {
    const rows = readFileSync(pf, 'utf8').split('\n').slice(1).filter(Boolean).map((l) => l.split(','));
    // as published when the source prints it grouped, else the usual grouping: 4-6-4 (14), 4-6-5 (15), fours
    const forms = (pan: string, published: string) => {
      const groups = published.trim() ? published.trim().split(/\s+/) : pan.length === 14 || pan.length === 15 ? [pan.slice(0, 4), pan.slice(4, 10), pan.slice(10)] : pan.match(/.{1,4}/g)!;
      return [pan, groups.join(' '), groups.join('-'), `order paid with ${groups.join(' ')} yesterday`, `"card":"${pan}"`];
    };
    let pan = 0, panHit = 0, neg = 0, negHit = 0;
    for (const r of rows) {
      const isPan = r[4] === 'PAN';
      for (const t of forms(r[0]!, r[1] ?? '')) {
        const hit = findSensitiveData(t, ALL).some((m) => m.type.startsWith('CREDIT_CARD_NUMBER') && /^[\d -]+$/.test(m.value) && m.value.replace(/\D/g, '') === r[0]);
        if (isPan) { pan++; if (hit) panHit++; } else { neg++; if (hit) negHit++; }
      }
    }
    console.log(`\ntest_pans (Adyen/Stripe published test cards, MIT; 5 renderings each: raw, spaced, dashed, in a sentence, in JSON)`);
    console.log(`  PAN recall            ${panHit}/${pan} = ${pct(panHit / pan)}`);
    console.log(`  NOT_PAN (Luhn fails)  rejected ${neg - negHit}/${neg} = ${pct((neg - negHit) / neg)}`);
  }
}

// 4. generated decoys (no dataset needed): deterministic pseudo-random digit runs
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
{
  let long = 0, longHit = 0, uni = 0, uniHit = 0;
  for (let i = 0; i < 2000; i++) {
    const t = `ref ${digits(20 + Math.floor(rnd() * 12))} end`;
    long++;
    if (findSensitiveData(t, ALL).some((m) => m.type.startsWith('CREDIT_CARD_NUMBER'))) longHit++;
    const u = `id ${digits(16)} end`;
    uni++;
    if (findSensitiveData(u, ALL).some((m) => m.type.startsWith('CREDIT_CARD_NUMBER'))) uniHit++;
  }
  console.log(`\ngenerated decoys`);
  console.log(`  20-31 digit runs flagged as cards        ${longHit}/${long} (cards are never cut out of a longer run)`);
  console.log(`  uniformly random 16-digit strings flagged ${uniHit}/${uni} = ${pct(uniHit / uni)} (Luhn passes 10% of random strings; issuer ranges cover most prefixes: format-only detection cannot do better)`);
}

// 5. throughput, one thread (= per core)
{
  const mb = Number(args.mb) || 4;
  const words = 'the of and to in is for on that with as by at from this be are was support order account please invoice customer shipping'.split(' ');
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < mb * 2 ** 20) {
    const w = Array.from({ length: 12 }, () => words[Math.floor(rnd() * words.length)]).join(' ');
    const extra = i % 50 === 0 ? ` card 4111 1111 1111 1111 ssn 219-45-6789 mail a${i}@example.com call (415) 555-${String(1000 + (i % 9000)).padStart(4, '0')}` : i % 7 === 0 ? ` order ${digits(8)} on 2026-0${1 + (i % 9)}-1${i % 10} total ${digits(3)}.${digits(2)}` : '';
    const line = `${w}${extra}.\n`;
    parts.push(line);
    size += line.length;
    i++;
  }
  const text = parts.join('');
  const bytes = Buffer.byteLength(text);
  for (const [what, opts] of [['recommended identifiers', {}], ['all identifiers', ALL]] as const) {
    scanText(text.slice(0, 100_000), opts);
    let d = scanText(text, opts);
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      d = scanText(text, opts);
      times.push((performance.now() - t0) / 1000);
    }
    const s = times.sort((a, b) => a - b)[1]!; // median of 3
    console.log(`\nthroughput text, ${what}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${s.toFixed(2)} s = ${(bytes / 2 ** 20 / s).toFixed(1)} MiB/s per core (${d.reduce((n, x) => n + x.count, 0)} occurrences)`);
  }
  const csv = ['name,email,card,note', ...Array.from({ length: 50_000 }, (_, k) => `user ${k},u${k}@example.org,${k % 10 === 0 ? '4111111111111111' : digits(6)},thanks for the order`)].join('\n');
  const csvBytes = new TextEncoder().encode(csv);
  const times: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    await scanObject('people.csv', csvBytes, ALL);
    times.push((performance.now() - t0) / 1000);
  }
  const s = times.sort((a, b) => a - b)[1]!;
  console.log(`throughput CSV (50,000 rows x 4 cells), all identifiers: ${(csv.length / 2 ** 20).toFixed(1)} MiB in ${s.toFixed(2)} s = ${(csv.length / 2 ** 20 / s).toFixed(1)} MiB/s per core`);
}
