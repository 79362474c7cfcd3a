// The witness (src/controls/ledger/witness.ts), c2sp.org/tlog-witness add-checkpoint: it cosigns a
// checkpoint only when the log's key signed it and it extends the last checkpoint it cosigned; it
// answers 409 with its size, 422 for a bad proof, 403 for an untrusted signature, 404 for an unknown log,
// 400 for a malformed request; it never rolls back and records what it cosigned and what it refused.
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { leafHash, nodeHash, type Hash } from '../../src/controls/ledger/hash.ts';
import { consistencyProofSync, treeRootSync } from '../../src/controls/ledger/tree.ts';
import { ed25519Signer, generateEd25519Key, openNote, signNote, splitNote, verifierFromVkey, type NoteSigner } from '../../src/controls/ledger/note.ts';
import { formatCheckpoint, parseCheckpoint } from '../../src/controls/ledger/checkpoint.ts';
import { cosignatureVkey } from '../../src/controls/ledger/cosignature.ts';
import { ecdsaSigner } from '../../src/controls/ledger/signers.ts';
import { addCheckpointRequest, requestCosignature, Witness, type WitnessStore } from '../../src/controls/ledger/witness.ts';
import { S3Store } from '../../src/controls/ledger/store.ts';
import { S3Client, CreateBucketCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { useLabCloud } from '../helpers/cloud.ts';
import { Random } from '../../src/engine/random.ts';

const ORIGIN = 'example.com/ledger';

/** A store that keeps every put (as S3 versioning would) so tests can see what the witness recorded. */
class MapStore implements WitnessStore {
  data = new Map<string, Buffer>();
  puts: string[] = [];
  async get(p: string) { return this.data.get(p); }
  async put(p: string, d: Buffer) { this.data.set(p, d); this.puts.push(p); }
}

/** A log in memory: its entries, tree heads and consistency proofs from CORE's tree code. */
class TestLog {
  entries: Buffer[] = [];
  private cache = new Map<string, Hash>();
  constructor(private signers: NoteSigner[], private tag = 'e') {}
  append(n: number): this {
    for (let i = 0; i < n; i++) this.entries.push(Buffer.from(`${this.tag}${this.entries.length}`));
    return this;
  }
  node = (level: number, n: number): Hash => {
    const k = `${level}/${n}`;
    let h = this.cache.get(k);
    if (!h) {
      h = level === 0 ? leafHash(this.entries[n]!) : nodeHash(this.node(level - 1, 2 * n), this.node(level - 1, 2 * n + 1));
      this.cache.set(k, h);
    }
    return h;
  };
  root(size = this.entries.length): Hash { return treeRootSync(size, this.node); }
  proof(oldSize: number, size = this.entries.length): Hash[] { return consistencyProofSync(oldSize, size, this.node); }
  async checkpoint(size = this.entries.length, signers = this.signers): Promise<string> {
    return signNote(formatCheckpoint({ origin: ORIGIN, size, root: this.root(size), extensions: [] }), signers);
  }
}

function setup(now = () => 1_765_000_000_000) {
  const logKey = generateEd25519Key(ORIGIN);
  const wKey = generateEd25519Key('witness.example/w1');
  const store = new MapStore();
  const witness = new Witness({ skey: wKey.skey, store, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], now });
  const log = new TestLog([ed25519Signer(logKey.skey)]);
  const wv = verifierFromVkey(cosignatureVkey(wKey.vkey));
  return { logKey, wKey, store, witness, log, wv };
}

describe('witness add-checkpoint (c2sp.org/tlog-witness)', () => {
  it('accepts the first checkpoint at old 0, then only consistent extensions; cosignatures verify and carry the lab time', async () => {
    let now = 1_765_000_000_999;
    const { witness, log, wv, store } = setup(() => now);
    const cp5 = await log.append(5).checkpoint();
    const r1 = await witness.addCheckpoint(addCheckpointRequest(0, [], cp5));
    expect(r1.status).toBe(200);
    expect(r1.body).toMatch(/^— witness\.example\/w1 [A-Za-z0-9+/=]+\n$/);
    const cosigned = `${cp5}${r1.body}`;
    expect(openNote(cosigned, [wv]).verified).toEqual([{ name: 'witness.example/w1', keyId: wv.keyId, type: 4, timestamp: 1_765_000_000 }]);
    expect(await witness.latest(ORIGIN)).toBe(cosigned);

    now += 60_000;
    const cp9 = await log.append(4).checkpoint();
    const r2 = await witness.addCheckpoint(addCheckpointRequest(5, log.proof(5), cp9));
    expect(r2.status).toBe(200);
    expect(openNote(`${cp9}${r2.body}`, [wv]).verified[0]!.timestamp).toBe(1_765_000_060);
    expect(parseCheckpoint(openNote((await witness.latest(ORIGIN))!, [wv]).text).size).toBe(9);
    // Re-submitting the same checkpoint (old = size, empty proof) is cosigned again.
    expect((await witness.addCheckpoint(addCheckpointRequest(9, [], cp9))).status).toBe(200);
    expect(store.puts.filter((p) => p.includes('/cosigned/'))).toHaveLength(3);
  });

  it('answers 409 with its size (text/x.tlog.size) when old is not its size, and never rolls back', async () => {
    const { witness, log } = setup();
    await witness.addCheckpoint(addCheckpointRequest(0, [], await log.append(10).checkpoint()));
    const cp12 = await log.append(2).checkpoint();
    expect(await witness.addCheckpoint(addCheckpointRequest(0, [], cp12))).toEqual({ status: 409, contentType: 'text/x.tlog.size', body: '10\n' });
    expect(await witness.addCheckpoint(addCheckpointRequest(7, log.proof(7), cp12))).toMatchObject({ status: 409, body: '10\n' });
    // A smaller (truncated) checkpoint: old = its size is not the witness's size; old = 10 is above its size.
    const cp6 = await log.checkpoint(6);
    expect(await witness.addCheckpoint(addCheckpointRequest(6, [], cp6))).toMatchObject({ status: 409, body: '10\n' });
    expect((await witness.addCheckpoint(addCheckpointRequest(10, [], cp6))).status).toBe(400);
    expect(parseCheckpoint(splitNote((await witness.latest(ORIGIN))!).text).size).toBe(10);
  });

  it('refuses a bad consistency proof (422) and a fork at the same size (409), and records both as evidence', async () => {
    const { witness, log, store, logKey } = setup();
    await witness.addCheckpoint(addCheckpointRequest(0, [], await log.append(8).checkpoint()));
    // The operator rewrote entry 3 and appended: a validly signed checkpoint that does not extend size 8.
    const forked = new TestLog([ed25519Signer(logKey.skey)]);
    forked.entries = log.entries.map((e) => Buffer.from(e));
    forked.entries[3] = Buffer.from('edited');
    forked.append(4);
    const bad = await witness.addCheckpoint(addCheckpointRequest(8, forked.proof(8), await forked.checkpoint()));
    expect(bad.status).toBe(422);
    expect(bad.body).toMatch(/does not verify/);
    // A garbled proof of the honest log is refused too.
    log.append(4);
    const p = log.proof(8);
    p[0] = Buffer.alloc(32);
    expect((await witness.addCheckpoint(addCheckpointRequest(8, p, await log.checkpoint()))).status).toBe(422);
    expect((await witness.addCheckpoint(addCheckpointRequest(8, log.proof(8).slice(1), await log.checkpoint()))).status).toBe(422);
    // Same size, other root: a fork.
    const fork8 = await forked.checkpoint(8);
    const f = await witness.addCheckpoint(addCheckpointRequest(8, [], fork8));
    expect(f.status).toBe(409);
    expect(f.body).toMatch(/forked/);
    const refused = [...store.data.keys()].filter((k) => k.includes('/refused/'));
    expect(refused.some((k) => k.endsWith('-fork'))).toBe(true);
    expect(refused.filter((k) => k.endsWith('-inconsistent'))).toHaveLength(3);
    expect(store.data.get(refused.find((k) => k.endsWith('-fork'))!)!.toString()).toBe(addCheckpointRequest(8, [], fork8));
    // The honest extension still works: the state did not move.
    expect((await witness.addCheckpoint(addCheckpointRequest(8, log.proof(8), await log.checkpoint()))).status).toBe(200);
  });

  it('403 for a checkpoint no trusted key signed or with a bad signature, 404 for an unknown origin, 400 for malformed requests', async () => {
    const { witness, log, logKey } = setup();
    const other = generateEd25519Key(ORIGIN); // same name, another key: the attacker's replacement key
    const byOther = await log.append(3).checkpoint(3, [ed25519Signer(other.skey)]);
    expect((await witness.addCheckpoint(addCheckpointRequest(0, [], byOther))).status).toBe(403);
    const good = await log.checkpoint(3, [ed25519Signer(logKey.skey)]);
    const tampered = good.replace('\n3\n', '\n4\n');
    expect((await witness.addCheckpoint(addCheckpointRequest(0, [], tampered))).status).toBe(403);
    const foreign = await signNote(formatCheckpoint({ origin: 'example.com/other', size: 3, root: log.root(3), extensions: [] }), [ed25519Signer(logKey.skey)]);
    expect((await witness.addCheckpoint(addCheckpointRequest(0, [], foreign))).status).toBe(404);
    const bodies = [
      '', 'old 01\n\n' + good, 'old 0\n' + good, 'old -1\n\n' + good, 'olde 0\n\n' + good, `old 0\nnot-base64\n\n${good}`,
      `old 0\n${Buffer.alloc(31).toString('base64')}\n\n${good}`, `old 0\n${`${Buffer.alloc(32).toString('base64')}\n`.repeat(64)}\n${good}`,
      'old 0\n\nnot a note\n', `old 4\n\n${good}`,
    ];
    for (const b of bodies) expect((await witness.addCheckpoint(b)).status, JSON.stringify(b.slice(0, 30))).toBe(400);
    expect((await witness.addCheckpoint(Buffer.from([0x6f, 0xff]))).status).toBe(400);
    expect(await witness.latest(ORIGIN)).toBeUndefined();
    // A non-empty proof with old 0 is a bad proof.
    expect((await witness.addCheckpoint(addCheckpointRequest(0, [log.root(1)], good))).status).toBe(422);
  });

  it('keeps its state in the store: a new witness instance on the same store continues where the last stopped', async () => {
    const { wKey, logKey, store, witness, log } = setup();
    await witness.addCheckpoint(addCheckpointRequest(0, [], await log.append(4).checkpoint()));
    const again = new Witness({ skey: wKey.skey, store, logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], now: () => 1_765_000_100_000 });
    expect(await again.addCheckpoint(addCheckpointRequest(0, [], await log.append(1).checkpoint()))).toMatchObject({ status: 409, body: '4\n' });
    expect((await again.addCheckpoint(addCheckpointRequest(4, log.proof(4), await log.checkpoint()))).status).toBe(200);
  });

  it('serializes concurrent requests: of two extensions from the same old size only the first is cosigned', async () => {
    const { witness, log } = setup();
    await witness.addCheckpoint(addCheckpointRequest(0, [], await log.append(8).checkpoint()));
    log.append(8);
    const [a, b] = await Promise.all([
      witness.addCheckpoint(addCheckpointRequest(8, log.proof(8, 12), await log.checkpoint(12))),
      witness.addCheckpoint(addCheckpointRequest(8, log.proof(8, 16), await log.checkpoint(16))),
    ]);
    expect([a!.status, b!.status]).toEqual([200, 409]);
    expect(b!.body).toBe('12\n');
  });

  it('trusts a KMS-style ECDSA (0x02) log key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ec = ecdsaSigner(privateKey, ORIGIN);
    const wKey = generateEd25519Key('witness.example/w1');
    const witness = new Witness({ skey: wKey.skey, store: new MapStore(), logs: [{ origin: ORIGIN, vkeys: [ec.vkey] }], now: () => 1_765_000_000_000 });
    const log = new TestLog([ec]).append(3);
    expect((await witness.addCheckpoint(addCheckpointRequest(0, [], await log.checkpoint()))).status).toBe(200);
  });

  it('over 300 seeded steps of honest growth, stale, forked, truncated and garbled submissions, it only ever cosigns extensions', async () => {
    const rnd = new Random('ledger-witness-steps');
    const { witness, log, logKey, store } = setup();
    const sign = [ed25519Signer(logKey.skey)];
    let cosignedSize = 0;
    const tally = { 200: 0, 400: 0, 409: 0, 422: 0 } as Record<number, number>;
    for (let step = 0; step < 300; step++) {
      const kind = rnd.int(0, 4);
      let r;
      if (kind === 0 || log.entries.length === 0) {
        log.append(rnd.int(0, 40));
        r = await witness.addCheckpoint(addCheckpointRequest(cosignedSize, cosignedSize ? log.proof(cosignedSize) : [], await log.checkpoint()));
        expect(r.status).toBe(200);
        cosignedSize = log.entries.length;
      } else if (kind === 1) {
        const wrong = rnd.int(0, log.entries.length);
        r = await witness.addCheckpoint(addCheckpointRequest(wrong, wrong ? log.proof(wrong) : [], await log.checkpoint()));
        expect(r.status).toBe(wrong === cosignedSize ? 200 : 409);
        if (r.status === 409) expect(r.body).toBe(`${cosignedSize}\n`);
        else cosignedSize = log.entries.length;
      } else if (kind === 2 && cosignedSize > 0) {
        // A fork: one entry before the witnessed size rewritten, maybe more appended.
        const fork = new TestLog(sign);
        fork.entries = log.entries.slice(0, cosignedSize).map((e) => Buffer.from(e));
        fork.entries[rnd.int(0, cosignedSize - 1)] = Buffer.from(`forged ${step}`);
        fork.append(rnd.int(0, 5));
        r = await witness.addCheckpoint(addCheckpointRequest(cosignedSize, fork.entries.length > cosignedSize ? fork.proof(cosignedSize) : [], await fork.checkpoint()));
        expect([409, 422]).toContain(r.status);
      } else if (kind === 3 && cosignedSize > 1) {
        const smaller = rnd.int(1, cosignedSize - 1);
        r = await witness.addCheckpoint(addCheckpointRequest(cosignedSize, [], await log.checkpoint(smaller)));
        expect(r.status).toBe(400);
      } else {
        log.append(rnd.int(1, 10));
        const proof = cosignedSize ? log.proof(cosignedSize) : [];
        if (proof.length === 0) continue;
        proof[rnd.int(0, proof.length - 1)] = Buffer.alloc(32, step % 256);
        r = await witness.addCheckpoint(addCheckpointRequest(cosignedSize, proof, await log.checkpoint()));
        expect(r.status).toBe(422);
      }
      tally[r.status] = (tally[r.status] ?? 0) + 1;
      expect(parseCheckpoint(splitNote((await witness.latest(ORIGIN))!).text).size).toBe(cosignedSize);
    }
    // Every checkpoint it recorded as cosigned is a prefix of the honest log.
    const cosigned = [...store.data.keys()].filter((k) => k.includes('/cosigned/'));
    for (const k of cosigned) {
      const cp = parseCheckpoint(splitNote(store.data.get(k)!.toString()).text);
      expect(cp.root.equals(log.root(cp.size))).toBe(true);
    }
    for (const status of [200, 400, 409, 422]) expect(tally[status], `status ${status} exercised`).toBeGreaterThan(10);
  });

  it('requestCosignature learns the witness size from a 409 and retries with a proof from there; refuses a rollback', async () => {
    const { witness, log, wv } = setup();
    const post = (body: string) => witness.addCheckpoint(body);
    const lines1 = await requestCosignature({ note: await log.append(6).checkpoint(), post, proof: async (o) => log.proof(o) });
    expect(lines1).toHaveLength(1);
    const cp = await log.append(10).checkpoint();
    const lines2 = await requestCosignature({ note: cp, post, proof: async (o) => log.proof(o) });
    expect(openNote(`${cp}${lines2.join('\n')}\n`, [wv]).verified).toHaveLength(1);
    await expect(requestCosignature({ note: await log.checkpoint(5), post, proof: async (o) => log.proof(o, 5) })).rejects.toMatchObject({ code: 'witness-ahead' });
  });
});

describe('a witness whose state is an S3 bucket in its own account (lab cloud)', () => {
  const { cloud } = useLabCloud();

  it('keeps the state across instances (a Lambda per request) and the log account cannot rewrite it', async () => {
    const c = cloud();
    const wAcct = c.createAccount();
    const logAcct = c.createAccount();
    const s3 = (a: typeof wAcct) => c.client(S3Client, { credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey }, forcePathStyle: true } as never);
    const bucket = `witness-state-${wAcct.accountId}`;
    await s3(wAcct).send(new CreateBucketCommand({ Bucket: bucket }));
    const logKey = generateEd25519Key(ORIGIN);
    const wKey = generateEd25519Key('witness.example/w1');
    let now = 1_765_000_000_000;
    const make = () => new Witness({ skey: wKey.skey, store: new S3Store({ client: s3(wAcct), bucket }), logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], now: () => now });
    const log = new TestLog([ed25519Signer(logKey.skey)]);
    expect((await make().addCheckpoint(addCheckpointRequest(0, [], await log.append(20).checkpoint()))).status).toBe(200);
    now += 1000;
    const cp30 = await log.append(10).checkpoint();
    expect((await make().addCheckpoint(addCheckpointRequest(20, log.proof(20), cp30))).status).toBe(200);
    const latest = (await make().latest(ORIGIN))!;
    expect(parseCheckpoint(splitNote(latest).text).size).toBe(30);
    expect(openNote(latest, [verifierFromVkey(cosignatureVkey(wKey.vkey))]).verified[0]!.timestamp).toBe(1_765_000_001);
    // The log's operator (another account) can neither reset nor delete the witness's view.
    const key = `witness/${encodeURIComponent(ORIGIN)}/checkpoint`;
    await expect(s3(logAcct).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(s3(logAcct).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({ name: 'AccessDenied' });
    // A truncated log gets no cosignature from a fresh instance either.
    expect(await make().addCheckpoint(addCheckpointRequest(0, [], await log.checkpoint(25)))).toMatchObject({ status: 409, body: '30\n' });
    const stored = await new S3Store({ client: s3(wAcct), bucket }).list(`witness/${encodeURIComponent(ORIGIN)}/cosigned/`);
    expect(stored).toHaveLength(2);
  }, 60_000);

  // Review finding 5: instances running at once (Lambda concurrency > 1) over one state bucket. The state
  // write is an S3 conditional PutObject; whichever loses is re-checked and refused, so no two roots of
  // one size are ever cosigned. Ten rounds, each a fresh state (prefix), two different logs of size 1.
  it('two instances racing over one S3 state bucket: one cosignature per size, the other 409', async () => {
    const c = cloud();
    const wAcct = c.createAccount();
    const s3 = () => c.client(S3Client, { credentials: { accessKeyId: wAcct.accessKeyId, secretAccessKey: wAcct.secretAccessKey }, forcePathStyle: true } as never);
    const bucket = `witness-race-${wAcct.accountId}`;
    await s3().send(new CreateBucketCommand({ Bucket: bucket }));
    const logKey = generateEd25519Key(ORIGIN);
    const wKey = generateEd25519Key('witness.example/race');
    const signer = ed25519Signer(logKey.skey);
    for (let round = 0; round < 10; round++) {
      const make = () => new Witness({ skey: wKey.skey, store: new S3Store({ client: s3(), bucket, prefix: `round-${round}` }), logs: [{ origin: ORIGIN, vkeys: [logKey.vkey] }], now: () => 1_765_000_000_000 });
      const a = new TestLog([signer]);
      const b = new TestLog([signer], 'other');
      const na = await a.append(1).checkpoint();
      const nb = await b.append(1).checkpoint();
      const rs = await Promise.all([make().addCheckpoint(addCheckpointRequest(0, [], na)), make().addCheckpoint(addCheckpointRequest(0, [], nb))]);
      expect(rs.map((r) => r.status).sort(), `round ${round}: ${rs.map((r) => r.body.trim()).join(' | ')}`).toEqual([200, 409]);
      const cosigned = await new S3Store({ client: s3(), bucket, prefix: `round-${round}` }).list(`witness/${encodeURIComponent(ORIGIN)}/cosigned/`);
      expect(cosigned).toHaveLength(1);
    }
  }, 120_000);
});
