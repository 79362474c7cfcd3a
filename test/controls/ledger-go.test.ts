// Interoperability proven with an independent implementation: Go's golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog (from the Go module proxy, pinned by test/helpers/tlog-go/go.sum) open
// our signed notes and checkpoints (Ed25519, KMS-style ECDSA, witness cosignatures), sign notes we open,
// recompute our tree heads from our tiles, produce the same proofs byte for byte and accept ours.
// The helper is built once into a cache folder keyed by its sources; without `go` the file is skipped.
import { describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ed25519Signer, generateEd25519Key, openNote, signNote, verifierFromVkey, vkeyOfSkey,
} from '../../src/controls/ledger/note.ts';
import { formatCheckpoint } from '../../src/controls/ledger/checkpoint.ts';
import { cosigner, cosignatureVkey } from '../../src/controls/ledger/cosignature.ts';
import { ecdsaSigner } from '../../src/controls/ledger/signers.ts';

const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'tlog-go');
const haveGo = spawnSync('go', ['version'], { encoding: 'utf8' }).status === 0;

/** Builds test/helpers/tlog-go once per source version into $SECLAB_CACHE_DIR (or the temp folder). */
function tlogGoBinary(): string {
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(f).update(fs.readFileSync(path.join(HELPER, f)));
  const dir = path.join(process.env['SECLAB_CACHE_DIR'] ?? path.join(os.tmpdir(), 'seclab-cache'), 'tlog-go');
  const bin = path.join(dir, `tlog-go-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('go', ['build', '-o', tmp, '.'], { cwd: HELPER, encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod' } });
  if (r.status !== 0) throw new Error(`building test/helpers/tlog-go failed (it needs the Go module proxy once, or GOPROXY set):\n${r.stderr}`);
  fs.renameSync(tmp, bin);
  return bin;
}

let binary: string | undefined;
function go<T>(sub: string, req: unknown): T {
  binary ??= tlogGoBinary();
  const out = execFileSync(binary, [sub], { input: JSON.stringify(req), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out) as T;
}

interface GoOpen { ok: boolean; error?: string; text?: string; sigs?: { name: string; keyId: number; type: number; timestamp?: number }[]; unverified?: { name: string; keyId: number }[] }
function goOpen(notes: { note: string; vkeys: string[] }[]): GoOpen[] {
  return go<{ results: GoOpen[] }>('note-verify', { notes }).results;
}

/** Counters for the report at the end of the file. */
const counts = { notesGoOpened: 0, notesGoRefused: 0, notesWeOpenedFromGo: 0 };

describe.skipIf(!haveGo)('Go note package and our signed notes', () => {
  it('Go opens our Ed25519 checkpoint, our ECDSA (0x02) and cosignature (0x04) signatures, and lists unknown ones', async () => {
    const log = generateEd25519Key('example.com/ledger');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kmsLike = ecdsaSigner(privateKey, 'example.com/ledger');
    const w1 = generateEd25519Key('witness.example/w1');
    const w2 = generateEd25519Key('witness.example/w2');
    const text = formatCheckpoint({ origin: 'example.com/ledger', size: 70000, root: createHash('sha256').update('r').digest(), extensions: ['ext'] });
    const now = 1_765_000_000_123;
    const note = await signNote(text, [ed25519Signer(log.skey), kmsLike, cosigner(w1.skey, () => now), cosigner(w2.skey, () => now + 5000)]);
    const all = [log.vkey, kmsLike.vkey, cosignatureVkey(w1.vkey), cosignatureVkey(w2.vkey)];
    const [full, onlyEcdsa, onlyW2] = goOpen([{ note, vkeys: all }, { note, vkeys: [kmsLike.vkey] }, { note, vkeys: [cosignatureVkey(w2.skey)] }]);
    expect(full).toMatchObject({ ok: true, text });
    expect(full!.sigs!.map((s) => [s.name, s.type, s.timestamp])).toEqual([
      ['example.com/ledger', 1, undefined], ['example.com/ledger', 2, undefined], ['witness.example/w1', 4, 1_765_000_000], ['witness.example/w2', 4, 1_765_000_005],
    ]);
    expect(onlyEcdsa!.sigs!.map((s) => s.type)).toEqual([2]);
    expect(onlyEcdsa!.unverified).toHaveLength(3);
    expect(onlyW2!.sigs).toEqual([{ name: 'witness.example/w2', keyId: verifierFromVkey(cosignatureVkey(w2.vkey)).keyId, type: 4, timestamp: 1_765_000_005 }]);
    // Ours agrees on every case.
    expect(openNote(note, all.map(verifierFromVkey)).verified.map((v) => [v.name, v.type, v.timestamp])).toEqual(full!.sigs!.map((s) => [s.name, s.type, s.timestamp]));
    counts.notesGoOpened += 3;
  });

  it('Go refuses what we refuse: an edited checkpoint, a forged cosignature time, no trusted signature, malformed notes', async () => {
    const log = generateEd25519Key('example.com/ledger');
    const w = generateEd25519Key('witness.example/w');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ec = ecdsaSigner(privateKey, 'example.com/ledger');
    const text = formatCheckpoint({ origin: 'example.com/ledger', size: 10, root: Buffer.alloc(32, 3), extensions: [] });
    const note = await signNote(text, [ed25519Signer(log.skey), ec, cosigner(w.skey, () => 1_700_000_000_000)]);
    const edited = note.replace('\n10\n', '\n11\n');
    const [sig1, sig2, sig3] = note.split('\n\n')[1]!.trim().split('\n');
    const raw = Buffer.from(sig3!.split(' ')[2]!, 'base64');
    raw.writeBigUInt64BE(1_700_000_001n, 4);
    const forgedTime = `${text}\n${sig1}\n${sig2}\n— witness.example/w ${raw.toString('base64')}\n`;
    const cases: { note: string; vkeys: string[] }[] = [
      { note: edited, vkeys: [log.vkey] },
      { note: edited, vkeys: [ec.vkey] },
      { note: edited, vkeys: [cosignatureVkey(w.vkey)] },
      { note: forgedTime, vkeys: [cosignatureVkey(w.vkey)] },
      { note, vkeys: [generateEd25519Key('example.com/ledger').vkey] },
      { note: `\x01${note}`, vkeys: [log.vkey] },
      { note: note.replace('— example.com/ledger', '—  example.com/ledger'), vkeys: [log.vkey] },
      { note: note.slice(0, -1), vkeys: [log.vkey] },
      { note: text, vkeys: [log.vkey] },
    ];
    const goResults = goOpen(cases);
    for (const [i, c] of cases.entries()) {
      expect(goResults[i]!.ok, `Go accepted case ${i}`).toBe(false);
      expect(() => openNote(c.note, c.vkeys.map(verifierFromVkey)), `we accepted case ${i}`).toThrow();
    }
    expect(goResults.map((r) => r.error)).toEqual([
      'invalid signature for key example.com/ledger+' + log.vkey.split('+')[1],
      'invalid signature for key example.com/ledger+' + ec.vkey.split('+')[1],
      'invalid signature for key witness.example/w+' + cosignatureVkey(w.vkey).split('+')[1],
      'invalid signature for key witness.example/w+' + cosignatureVkey(w.vkey).split('+')[1],
      'note has no verifiable signatures',
      'malformed note', 'malformed note', 'malformed note', 'malformed note',
    ]);
    counts.notesGoRefused += cases.length;
  });

  it("we open what Go's note.Sign writes with our skey, Go's cosignature signer, and keys from Go's note.GenerateKey", async () => {
    const ours = generateEd25519Key('example.com/ledger');
    const text = formatCheckpoint({ origin: 'example.com/ledger', size: 1, root: Buffer.alloc(32, 5), extensions: [] });
    const gen = go<{ ok: boolean; skey: string; vkey: string }>('gen-key', { name: 'go.example/key' });
    expect(gen.ok).toBe(true);
    expect(vkeyOfSkey(gen.skey)).toBe(gen.vkey); // Go's skey parses here and gives Go's vkey
    const witness = generateEd25519Key('witness.example/w');
    const signed = go<{ ok: boolean; note: string }>('note-sign', { text, skeys: [ours.skey, gen.skey], cosign: [{ skey: witness.skey, time: 1_765_432_100 }] });
    expect(signed.ok).toBe(true);
    // Ed25519 is deterministic: Go's signature with our key is the one we make.
    expect(signed.note.startsWith(await signNote(text, [ed25519Signer(ours.skey), ed25519Signer(gen.skey)]))).toBe(true);
    const o = openNote(signed.note, [verifierFromVkey(ours.vkey), verifierFromVkey(gen.vkey), verifierFromVkey(cosignatureVkey(witness.vkey))]);
    expect(o.verified.map((v) => [v.name, v.type, v.timestamp])).toEqual([
      ['example.com/ledger', 1, undefined], ['go.example/key', 1, undefined], ['witness.example/w', 4, 1_765_432_100],
    ]);
    // And Go's cosignature equals ours at the same time (the format leaves nothing to choose).
    const mine = await signNote(text, [cosigner(witness.skey, () => 1_765_432_100_000)]);
    expect(signed.note.endsWith(mine.split('\n\n')[1]!)).toBe(true);
    counts.notesWeOpenedFromGo += 1;
  });
});

