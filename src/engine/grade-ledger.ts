// The grade ledger: `seclab grade --ledger [dir]` appends every grade record (its RFC 8785 canonical
// JSON) to a local tamper-evident log (src/controls/ledger: tlog-tiles in a folder, Ed25519-signed
// checkpoints), and `seclab grade verify <file> --ledger [dir]` proves that a record is in it, unchanged.
// Layout of the folder: the log (`checkpoint`, `tile/…`), `ledger.key` (the signing key, mode 0600, made
// once) and `ledger.vkey` (its verifier key; its name is the log's origin).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canonicalJson } from '../controls/ledger/entry.ts';
import { leafHash, type Hash } from '../controls/ledger/hash.ts';
import { Ledger } from '../controls/ledger/log.ts';
import { FsStore } from '../controls/ledger/store.ts';
import { verifyInclusion } from '../controls/ledger/tree.ts';
import { ed25519Signer, generateEd25519Key, openNote, parseVkey, verifierFromVkey } from '../controls/ledger/note.ts';
import { parseCheckpoint, type Checkpoint } from '../controls/ledger/checkpoint.ts';

export const KEY_FILE = 'ledger.key';
export const VKEY_FILE = 'ledger.vkey';
/** tlog-tiles entries are at most 65535 bytes: a larger record is logged as its SHA-256 (same proof). */
export const MAX_INLINE = 0xffff;

/** Default folder: next to the grade key (`$XDG_CONFIG_HOME/seclab` or `~/.config/seclab`), `grade-ledger/`. */
export function defaultGradeLedgerDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || path.join(env['HOME'] || os.homedir(), '.config');
  return path.join(base, 'seclab', 'grade-ledger');
}

export class GradeLedgerError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'GradeLedgerError';
  }
}

/** The bytes logged for a record: its canonical JSON, or for a record over 64 KiB a digest entry. */
export function gradeEntry(record: unknown): Buffer {
  const json = Buffer.from(canonicalJson(record), 'utf8');
  if (json.length <= MAX_INLINE) return json;
  const digest = leafHash(json).toString('hex');
  const r = (record ?? {}) as Record<string, unknown>;
  return Buffer.from(canonicalJson({ 'seclab-grade-digest': 1, leafSha256: digest, student: r['student'] ?? null, startedAt: r['startedAt'] ?? null }), 'utf8');
}

interface Opened { dir: string; ledger: Ledger; store: FsStore; vkey: string; origin: string; skey?: string }

function readKeyFile(file: string): string {
  const st = lstatSync(file);
  if (!st.isFile()) throw new GradeLedgerError(`${file} is not a regular file`, 'remove it; a new key is made on the next `seclab grade --ledger`');
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new GradeLedgerError(`${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)})`, `chmod 600 ${file}`);
  }
  return readFileSync(file, 'utf8').trim();
}

/** Opens the ledger folder; with `create`, makes the folder and the key on first use. */
export async function openGradeLedger(dir: string, opts: { create?: boolean } = {}): Promise<Opened> {
  const abs = path.resolve(dir);
  const keyFile = path.join(abs, KEY_FILE);
  const vkeyFile = path.join(abs, VKEY_FILE);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new GradeLedgerError(`the grade ledger ${abs} is not a folder`, 'give --ledger a folder');
  if (!existsSync(vkeyFile)) {
    if (!opts.create) throw new GradeLedgerError(`no grade ledger in ${abs} (${VKEY_FILE} is missing)`, 'grades are recorded with `seclab grade --ledger [dir]`; give the same folder here');
    mkdirSync(abs, { recursive: true, mode: 0o700 });
    // The origin names this ledger uniquely: two machines never share one.
    const origin = `seclab.grades/${randomBytes(6).toString('hex')}`;
    const { skey, vkey } = generateEd25519Key(origin);
    writeFileSync(keyFile, `${skey}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(keyFile, 0o600);
    writeFileSync(vkeyFile, `${vkey}\n`, { flag: 'wx' });
  }
  const vkey = readFileSync(vkeyFile, 'utf8').trim();
  let origin: string;
  try {
    origin = parseVkey(vkey).name;
    verifierFromVkey(vkey);
  } catch (e) {
    throw new GradeLedgerError(`${vkeyFile} is not a verifier key: ${(e as Error).message}`, 'restore it from a copy');
  }
  const store = new FsStore(abs);
  const ledger = await Ledger.open(store, { origin });
  const out: Opened = { dir: abs, ledger, store, vkey, origin };
  if (opts.create) out.skey = readKeyFile(keyFile);
  return out;
}

const LOCK_FILE = 'ledger.lock';
/** A lock older than this belongs to a grading that died. */
const STALE_LOCK_MS = 10 * 60_000;

/** Two gradings appending at once would fork the ledger: one at a time, by an exclusive lock file. */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new GradeLedgerError(`the grade ledger ${dir} is not a folder`, 'give --ledger a folder');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lock = path.join(dir, LOCK_FILE);
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      } catch { /* released meanwhile */ }
      if (Date.now() > until) throw new GradeLedgerError(`the grade ledger ${dir} is locked by another grading (${lock})`, `wait for it to finish, or remove ${lock} if no grading is running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Appends the records and signs a new checkpoint; returns the first index and the new size. */
export async function recordGrades(dir: string, records: unknown[]): Promise<{ dir: string; first: number; size: number; origin: string }> {
  return withLock(path.resolve(dir), () => appendLocked(dir, records));
}

async function appendLocked(dir: string, records: unknown[]): Promise<{ dir: string; first: number; size: number; origin: string }> {
  const l = await openGradeLedger(dir, { create: true });
  const signer = ed25519Signer(l.skey!);
  if (signer.name !== l.origin) throw new GradeLedgerError(`${path.join(l.dir, KEY_FILE)} does not belong to ${path.join(l.dir, VKEY_FILE)} (${signer.name} ≠ ${l.origin})`, 'restore the matching pair');
  const { first, size } = await l.ledger.append(records.map(gradeEntry));
  await l.ledger.checkpoint([signer]);
  return { dir: l.dir, first, size, origin: l.origin };
}

export interface GradeProof {
  ok: boolean;
  /** recorded | altered | not-recorded | bad-checkpoint */
  status: 'recorded' | 'altered' | 'not-recorded' | 'bad-checkpoint';
  reason: string;
  index?: number;
  size?: number;
  leafHash?: string;
  proof?: string[];
  root?: string;
  /** For an altered record: the fields that differ from the recorded one. */
  changed?: string[];
}

/** The signed checkpoint of the ledger, verified with its vkey (or a pinned one). */
export async function ledgerCheckpoint(l: Opened, pinnedVkey?: string): Promise<Checkpoint> {
  const raw = await l.store.get('checkpoint');
  if (!raw) throw new GradeLedgerError(`the grade ledger ${l.dir} has no checkpoint`, 'it is written after each grade: was the folder copied only in part?');
  const vkey = pinnedVkey ?? l.vkey;
  const opened = openNote(raw.toString('utf8'), [verifierFromVkey(vkey)]);
  const cp = parseCheckpoint(opened.text);
  if (cp.origin !== l.origin) throw new GradeLedgerError(`the checkpoint is for ${cp.origin}, not ${l.origin}`);
  return cp;
}

function keyOf(r: unknown): string | undefined {
  if (!r || typeof r !== 'object') return undefined;
  const g = r as Record<string, unknown>;
  return g['student'] !== undefined && g['startedAt'] !== undefined ? `${String(g['student'])}\u0000${String(g['startedAt'])}` : undefined;
}

/** Proves that `record` is in the ledger as it is now, against the signed checkpoint. */
export async function proveGrade(l: Opened, record: unknown, cp: Checkpoint): Promise<GradeProof> {
  const entry = gradeEntry(record);
  const leaf = leafHash(entry);
  const want = keyOf(record);
  let similar: { index: number; recorded: Record<string, unknown> } | undefined;
  for (let i = 0; i < cp.size; i++) {
    const e = await l.ledger.entry(i);
    if (e.equals(entry)) return proof(l, i, leaf, cp);
    if (want && !similar) {
      try {
        const r = JSON.parse(e.toString('utf8')) as Record<string, unknown>;
        if (keyOf(r) === want || (r['seclab-grade-digest'] && `${String(r['student'])}\u0000${String(r['startedAt'])}` === want)) similar = { index: i, recorded: r };
      } catch { /* not JSON: not a grade */ }
    }
  }
  if (similar) {
    const rec = record as Record<string, unknown>;
    const changed = similar.recorded['seclab-grade-digest'] ? ['(the recorded record is a digest: the fields cannot be listed)']
      : [...new Set([...Object.keys(rec), ...Object.keys(similar.recorded)])].filter((k) => canonicalJson(rec[k]) !== canonicalJson(similar!.recorded[k])).sort();
    return { ok: false, status: 'altered', index: similar.index, size: cp.size, changed, reason: `the file was altered: the ledger holds a different record of ${String(rec['student'])} graded at ${String(rec['startedAt'])} (entry ${similar.index}); changed: ${changed.join(', ')}` };
  }
  return { ok: false, status: 'not-recorded', size: cp.size, reason: `this record was never recorded in the grade ledger (${cp.size} records checked)` };
}

async function proof(l: Opened, index: number, leaf: Hash, cp: Checkpoint): Promise<GradeProof> {
  const p = await l.ledger.inclusionProof(index, cp.size);
  const ok = verifyInclusion(leaf, index, cp.size, p, cp.root);
  return ok
    ? { ok, status: 'recorded', index, size: cp.size, leafHash: leaf.toString('hex'), proof: p.map((h) => h.toString('base64')), root: cp.root.toString('base64'), reason: `recorded as entry ${index} of ${cp.size}; inclusion proof (${p.length} hashes) verified against the signed checkpoint` }
    : { ok, status: 'bad-checkpoint', index, size: cp.size, reason: `entry ${index} holds this record but its inclusion proof does not verify against the signed checkpoint: the ledger's tiles were altered (run \`seclab ledger audit ${l.dir}\`)` };
}
