// The ledger's speed and sizes: `npm run bench:ledger [-- --max 10000000] [--quick]`.
//
// 1. Appends per second on one core (Node runs this single-threaded; FsStore's writes use libuv's pool):
//    MerkleAccumulator (the in-memory right edge), Ledger over MemoryStore in batches of 1,000 and of
//    100, Ledger over FsStore in batches of 1,000 — each against baselines in the same run: per-entry
//    appends (batches of 1, every append rewrites its partial tile and bundle) and a naive log that
//    recomputes the root from every leaf hash after each batch.
// 2. Proof sizes and generation/verification times as the log grows to --max entries (default 10
//    million): a log simulated in typed arrays (complete subtree hashes from level 4 up, built by a
//    MerkleAccumulator; lower nodes recomputed from the deterministic entries, as a tile read would).
// 3. Storage: bytes of tiles and bundles per byte of entries, for batch sizes 1,000 and 100 (the old
//    partial tiles every batch leaves behind included).
// Entries are realistic: canonical JSON of a CloudTrail S3 data event (~600 bytes).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HASH_SIZE, leafHash, nodeHash, type Hash } from '../src/controls/ledger/hash.ts';
import { consistencyProofSync, inclusionProofSync, treeRootSync, verifyConsistency, verifyInclusion } from '../src/controls/ledger/tree.ts';
import { FsStore, MemoryStore, type LedgerStore } from '../src/controls/ledger/store.ts';
import { Ledger, MerkleAccumulator } from '../src/controls/ledger/log.ts';
import { encodeEntry, type LedgerEntry } from '../src/controls/ledger/entry.ts';
import { Random } from '../src/engine/random.ts';

const { values: args } = parseArgs({ options: { max: { type: 'string' }, quick: { type: 'boolean', default: false }, seed: { type: 'string', default: 'bench-ledger-1' } } });
const QUICK = args.quick;
const MAX = Number(args.max ?? (QUICK ? 1_000_000 : 10_000_000));
if (!Number.isSafeInteger(MAX) || MAX < 1000) throw new Error(`--max must be an integer ≥ 1000, got ${args.max}`);
const scale = QUICK ? 0.25 : 1;
const random = new Random(args.seed);

/** Entry i: a CloudTrail-like S3 data event as the feed would log it. */
function event(i: number): LedgerEntry {
  return {
    v: 1,
    kind: 'cloudtrail',
    source: { type: 'cloudtrail', eventID: `0e7c${i.toString(16).padStart(8, '0')}-5a1f-4e53-9f0b-1d2c3b4a5f60`, eventSource: 's3.amazonaws.com', eventName: i % 3 ? 'GetObject' : 'PutObject' },
    time: new Date(Date.UTC(2026, 11, 8) + i * 1000).toISOString(),
    event: {
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', principalId: 'AIDA4EXAMPLE7OPSADMIN', arn: 'arn:aws:iam::123456789012:user/ops-admin', accountId: '123456789012', userName: 'ops-admin' },
      eventTime: new Date(Date.UTC(2026, 11, 8) + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
      awsRegion: 'us-east-1',
      sourceIPAddress: `203.0.113.${i % 250}`,
      userAgent: 'aws-cli/2.17.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.8',
      requestParameters: { bucketName: 'northwind-customer-records', key: `customers/${String(i % 100000).padStart(6, '0')}.json`, Host: 'northwind-customer-records.s3.amazonaws.com' },
      readOnly: i % 3 !== 0,
      resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::northwind-customer-records/customers/${String(i % 100000).padStart(6, '0')}.json` }],
      eventType: 'AwsApiCall',
      recipientAccountId: '123456789012',
    },
  };
}

// A pool of distinct encoded entries, reused cyclically (encoding is measured on its own).
const POOL = 4096;
const events = Array.from({ length: POOL }, (_, i) => event(i));
const encodeStart = process.cpuUsage();
const pool = events.map((e) => encodeEntry(e));
const encodeCpu = process.cpuUsage(encodeStart);
const encodeUs = (encodeCpu.user + encodeCpu.system) / POOL;
const entryBytes = pool.reduce((n, b) => n + b.length, 0) / POOL;
const entryAt = (i: number) => pool[i % POOL]!;

// Rates are per CPU second of this process (user + system, libuv's file threads included): the machine
// may be shared, and wall time under load says more about the neighbours than about the ledger.
interface Row { what: string; n: number; seconds: number; wall: number; note?: string }
const rows: Row[] = [];
const rate = (r: Row) => r.n / r.seconds;
const clock = () => ({ cpu: process.cpuUsage(), wall: performance.now() });
const since = (c: ReturnType<typeof clock>) => {
  const u = process.cpuUsage(c.cpu);
  return { seconds: (u.user + u.system) / 1e6, wall: (performance.now() - c.wall) / 1000 };
};
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function timeLedger(what: string, store: LedgerStore, n: number, batch: number, note?: string): Promise<{ row: Row; ledger: Ledger }> {
  const ledger = await Ledger.open(store, { origin: 'bench.seclab/ledger' });
  const t = clock();
  for (let i = 0; i < n; i += batch) {
    const b: Buffer[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) b.push(entryAt(j));
    await ledger.append(b);
  }
  const row = { what, n, ...since(t), note };
  rows.push(row);
  return { row, ledger };
}

// ---- 1. appends ----
{
  const n = Math.round(400_000 * scale);
  const acc = new MerkleAccumulator();
  const t = clock();
  for (let i = 0; i < n; i++) acc.appendEntry(entryAt(i));
  acc.root();
  rows.push({ what: 'MerkleAccumulator (memory, right edge only)', n, ...since(t) });
}
const memBatched = await timeLedger('Ledger + MemoryStore, batches of 1,000', new MemoryStore(), Math.round(400_000 * scale), 1000);
await timeLedger('Ledger + MemoryStore, batches of 100', new MemoryStore(), Math.round(200_000 * scale), 100);
const unbatched = await timeLedger('baseline: Ledger + MemoryStore, per-entry appends', new MemoryStore(), Math.round(20_000 * scale), 1, 'each append rewrites its partial tiles + bundle');
let endToEnd: Row;
let naive: Row;
{
  // End to end as the feed does it: encode each event (RFC 8785) then append in batches of 1,000.
  const n = Math.round(40_000 * scale);
  const l = await Ledger.open(new MemoryStore(), { origin: 'bench.seclab/ledger' });
  const t = clock();
  for (let i = 0; i < n; i += 1000) {
    const b: Buffer[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) b.push(encodeEntry(events[j % POOL]!));
    await l.append(b);
  }
  endToEnd = { what: 'encodeEntry + Ledger + MemoryStore, batches of 1,000', n, ...since(t), note: 'canonical JSON dominates' };
  rows.push(endToEnd);
}
let fsBatched: Row;
{
  const dir = await mkdtemp(join(tmpdir(), 'bench-ledger-'));
  try {
    fsBatched = (await timeLedger('Ledger + FsStore, batches of 1,000', new FsStore(dir), Math.round(200_000 * scale), 1000, 'files in a temp folder')).row;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
{
  // Naive: keep every leaf hash and recompute the whole tree's root after each batch of 1,000. Its cost
  // grows with the log, so it is measured where the batched Ledger above ended: the last 3 batches
  // up to the same size (the leaves before them are hashed untimed).
  const n = Math.round(400_000 * scale);
  const leaves: Hash[] = [];
  for (let i = 0; i < n - 3000; i++) leaves.push(leafHash(entryAt(i)));
  const t = clock();
  for (let i = n - 3000; i < n; i += 1000) {
    for (let j = i; j < i + 1000; j++) leaves.push(leafHash(entryAt(j)));
    treeRootSync(leaves.length, (level, k) => {
      // hash the 2^level leaves under the node: no stored interior nodes
      let row = leaves.slice(k * 2 ** level, (k + 1) * 2 ** level);
      while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, x) => nodeHash(row[2 * x]!, row[2 * x + 1]!));
      return row[0]!;
    });
  }
  naive = { what: 'baseline: naive root recomputation per batch of 1,000', n: 3000, ...since(t), note: `the last 3 batches up to ${fmt(n)} entries; O(size) per batch` };
  rows.push(naive);
}

console.log(`\nbench:ledger — appends on one core (${entryBytes.toFixed(0)}-byte canonical JSON entries; encoding alone: ${encodeUs.toFixed(1)} CPU µs/entry, included only where named)`);
console.log(`  ${'what'.padEnd(56)} ${'entries'.padStart(9)} ${'CPU s'.padStart(7)} ${'wall s'.padStart(7)} ${'appends/s/core'.padStart(15)}`);
for (const r of rows) console.log(`  ${r.what.padEnd(56)} ${fmt(r.n).padStart(9)} ${r.seconds.toFixed(2).padStart(7)} ${r.wall.toFixed(2).padStart(7)} ${fmt(rate(r)).padStart(15)}${r.note ? `  (${r.note})` : ''}`);
console.log(`  (load average now ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on ${(await import('node:os')).cpus().length} CPUs)`);

// ---- 3. storage overhead ----
console.log('\nstorage (bytes stored per byte of entries; "stale" = partial tiles/bundles of earlier sizes, which tlog-tiles lets a log delete once the full one exists)');
console.log(`  ${'layout'.padEnd(22)} ${'entries'.padStart(9)} ${'entry bytes'.padStart(12)} ${'bundles'.padStart(8)} ${'stale'.padStart(7)} ${'tiles'.padStart(7)} ${'stale'.padStart(7)} ${'objects'.padStart(8)}`);
for (const batch of [1000, 100]) {
  const store = new MemoryStore();
  const n = Math.round(100_000 * scale);
  const l = await Ledger.open(store, { origin: 'bench.seclab/ledger' });
  let payload = 0;
  for (let i = 0; i < n; i += batch) {
    const b: Buffer[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) b.push(entryAt(j));
    payload += b.reduce((s, e) => s + e.length, 0);
    await l.append(b);
  }
  const tiles = store.bytes('tile/') - store.bytes('tile/entries/');
  const bundles = store.bytes('tile/entries/');
  // What a log of this size needs: full tiles and bundles, and the final partials.
  let neededTiles = 0;
  for (let L = 0, per = 1; per <= n; L++, per *= 256) neededTiles += Math.floor(n / per) * HASH_SIZE;
  const neededBundles = payload + 2 * n;
  const objects = (await store.list('')).length;
  const r = (x: number) => (x / payload).toFixed(3);
  console.log(`  ${`batches of ${batch}`.padEnd(22)} ${fmt(n).padStart(9)} ${fmt(payload).padStart(12)} ${r(neededBundles).padStart(8)} ${r(bundles - neededBundles).padStart(7)} ${r(neededTiles).padStart(7)} ${r(tiles - neededTiles).padStart(7)} ${fmt(objects).padStart(8)}`);
}
console.log(`  (tiles need ${(HASH_SIZE * (1 + 1 / 255)).toFixed(2)} bytes per entry, ${((HASH_SIZE * (1 + 1 / 255)) / entryBytes).toFixed(3)} of a ${entryBytes.toFixed(0)}-byte entry; bundles add a 2-byte length per entry)`);

// ---- 2. proofs as the log grows ----
const STORED_FROM = 4; // levels below are recomputed from entries (≤ 16 leaves), like reading a tile
const levels: Buffer[] = [];
const counts: number[] = [];
for (let L = STORED_FROM, c = Math.floor(MAX / 2 ** STORED_FROM); c >= 1; L++, c = Math.floor(c / 2)) {
  levels[L] = Buffer.alloc(c * HASH_SIZE);
  counts[L] = 0;
}
const build = clock();
const acc = new MerkleAccumulator({
  onNode: (level, n, h) => {
    if (level >= STORED_FROM) h.copy(levels[level]!, n * HASH_SIZE);
  },
});
const checkpoints = [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000].filter((s) => s <= MAX);
if (!checkpoints.includes(MAX)) checkpoints.push(MAX);
const roots = new Map<number, Hash>();
for (let i = 0; i < MAX; i++) {
  acc.appendEntry(entryAt(i));
  if (checkpoints.includes(i + 1)) roots.set(i + 1, acc.root());
}
const buildS = since(build).seconds;
const read = (level: number, n: number): Hash => {
  if (level >= STORED_FROM) return levels[level]!.subarray(n * HASH_SIZE, (n + 1) * HASH_SIZE);
  let row: Hash[] = [];
  for (let j = n * 2 ** level; j < (n + 1) * 2 ** level; j++) row.push(leafHash(entryAt(j)));
  while (row.length > 1) row = Array.from({ length: row.length / 2 }, (_, x) => nodeHash(row[2 * x]!, row[2 * x + 1]!));
  return row[0]!;
};
console.log(`\nproofs as the log grows (simulated log of ${fmt(MAX)} entries built in ${buildS.toFixed(1)} CPU s = ${fmt(MAX / buildS)} appends/s by a MerkleAccumulator; seed ${args.seed})`);
console.log(`  ${'size'.padEnd(12)} ${'inclusion'.padStart(10)} ${'bytes'.padStart(6)} ${'prove µs'.padStart(9)} ${'verify µs'.padStart(10)}   ${'consistency'.padStart(11)} ${'bytes'.padStart(6)} ${'prove µs'.padStart(9)} ${'verify µs'.padStart(10)}`);
let verified = 0;
let bigInclusionUs = 0;
let bigInclusionLen = 0;
for (const size of checkpoints) {
  const root = treeRootSync(size, read);
  if (!root.equals(roots.get(size)!)) throw new Error(`root of size ${size} from stored nodes differs from the accumulator's`);
  const K = 200;
  // Times are CPU time over all K proofs of a kind (a shared machine's wall clock is too noisy per proof).
  const idx = Array.from({ length: K }, () => random.int(0, size - 1));
  const olds = Array.from({ length: K }, () => random.int(1, size - 1));
  const oldRoots = olds.map((o) => treeRootSync(o, read));
  const leaves = idx.map((i) => leafHash(entryAt(i)));
  let c = clock();
  const incs = idx.map((i) => inclusionProofSync(i, size, read));
  const incProve = since(c).seconds * 1000;
  c = clock();
  const incOk = incs.every((p, k) => verifyInclusion(leaves[k]!, idx[k]!, size, p, root));
  const incVerify = since(c).seconds * 1000;
  c = clock();
  const cons = olds.map((o) => consistencyProofSync(o, size, read));
  const conProve = since(c).seconds * 1000;
  c = clock();
  const conOk = cons.every((p, k) => verifyConsistency(olds[k]!, size, p, oldRoots[k]!, root));
  const conVerify = since(c).seconds * 1000;
  if (!incOk || !conOk) throw new Error(`a proof at size ${size} did not verify`);
  // and a wrong one must not
  if (verifyInclusion(leaves[0]!, idx[0]!, size, incs[0]!, oldRoots[0]!)) throw new Error('an inclusion proof verified against the wrong root');
  verified += 2 * K;
  const incLen = incs.reduce((n, p) => n + p.length, 0);
  const conLen = cons.reduce((n, p) => n + p.length, 0);
  const us = (ms: number) => ((ms * 1000) / K).toFixed(1);
  console.log(`  ${fmt(size).padEnd(12)} ${(incLen / K).toFixed(1).padStart(10)} ${fmt((incLen / K) * HASH_SIZE).padStart(6)} ${us(incProve).padStart(9)} ${us(incVerify).padStart(10)}   ${(conLen / K).toFixed(1).padStart(11)} ${fmt((conLen / K) * HASH_SIZE).padStart(6)} ${us(conProve).padStart(9)} ${us(conVerify).padStart(10)}`);
  bigInclusionUs = (incVerify * 1000) / K;
  bigInclusionLen = incLen / K;
}
console.log('  (hashes per proof, averaged over 200 random indexes / old sizes; "prove" includes recomputing levels 0-3 from entries)');

const goal = 50_000;
const mem = rate(memBatched.row);
console.log(
  `\nsummary: Ledger appends ${fmt(mem)}/s per core over MemoryStore in batches of 1,000 (${fmt(rate(fsBatched))}/s over FsStore) — goal ≥ ${fmt(goal)}: ${mem >= goal ? 'met' : 'NOT met'}; ` +
    `${(mem / rate(unbatched.row)).toFixed(0)}× per-entry appends, ${(mem / rate(naive)).toFixed(0)}× naive root recomputation at ${fmt(memBatched.row.n)} entries; ` +
    `with RFC 8785 encoding of each event ${fmt(rate(endToEnd))}/s; at ${fmt(MAX)} entries an inclusion proof is ${bigInclusionLen.toFixed(1)} hashes (${fmt(bigInclusionLen * HASH_SIZE)} bytes) verified in ${bigInclusionUs.toFixed(0)} µs; ${verified} proofs verified.`,
);
