// Tamper-evident grade records: HMAC-SHA256 over the canonical JSON of the record without its
// `signature` (keys sorted, no whitespace: RFC 8785 style). Key: $SECLAB_GRADE_KEY, or a random key
// created on first use in ~/.config/seclab/grade-key (mode 0600; $XDG_CONFIG_HOME is honoured).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Grade } from '../types.ts';

export const SIGNATURE_SCHEME = 'hmac-sha256';

/** JSON with object keys sorted (by UTF-16 code units) and no whitespace; undefined members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  const v = value as Record<string, unknown> & { toJSON?: () => unknown };
  if (typeof v.toJSON === 'function') return canonicalJson(v.toJSON());
  if (Array.isArray(value)) return `[${value.map((x) => (x === undefined || typeof x === 'function' ? 'null' : canonicalJson(x))).join(',')}]`;
  const keys = Object.keys(v).filter((k) => v[k] !== undefined && typeof v[k] !== 'function').sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
}

export function keyFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CONFIG_HOME'] || path.join(env['HOME'] || os.homedir(), '.config');
  return path.join(base, 'seclab', 'grade-key');
}

export interface GradeKey {
  key: Buffer;
  /** Short fingerprint written into signatures, to tell which key signed a record. */
  id: string;
  source: string;
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * The signing key. With `create` (signing), a key file is created when neither the environment nor
 * the file has one; without it (verifying) a missing key is an error.
 */
export function gradeKey(opts: { create?: boolean; env?: NodeJS.ProcessEnv } = {}): GradeKey {
  const env = opts.env ?? process.env;
  const fromEnv = env['SECLAB_GRADE_KEY'];
  if (fromEnv) {
    const key = Buffer.from(fromEnv, 'utf8');
    return { key, id: fingerprint(key), source: 'SECLAB_GRADE_KEY' };
  }
  const file = keyFile(env);
  const read = (): GradeKey => {
    checkKeyFile(file);
    const text = readFileSync(file, 'utf8').trim();
    if (!text) throw new Error(`the grade key file ${file} is empty`);
    const key = Buffer.from(text, 'utf8');
    return { key, id: fingerprint(key), source: file };
  };
  try {
    return read();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (!opts.create) throw new Error(`no grade key: set SECLAB_GRADE_KEY or keep the key file ${file} of the machine that signed the grades`);
  }
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkKeyDir(dir);
  // Atomic: the key is written in full to a private temporary file, then linked in place; linking
  // fails when the file exists (created meanwhile by another seclab, or by someone else: then read()
  // checks who owns it).
  const tmp = path.join(dir, `.grade-key.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  return read();
}

const myUid = () => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/** A key file someone else could have written or can read is no key: refuse it, saying why. */
function checkKeyFile(file: string): void {
  const st = lstatSync(file);
  const uid = myUid();
  const fix = `delete it (grades signed with it can no longer be trusted) and let seclab create a new one, or set SECLAB_GRADE_KEY`;
  if (!st.isFile()) throw new Error(`the grade key ${file} is not a regular file (a link?): ${fix}`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`the grade key ${file} belongs to user id ${st.uid}, not to you (${uid}): ${fix}`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new Error(`the grade key ${file} can be read or written by others (mode ${(st.mode & 0o777).toString(8)}): ${fix}`);
  }
  checkKeyDir(path.dirname(file));
}

function checkKeyDir(dir: string): void {
  const st = lstatSync(dir);
  const uid = myUid();
  if (!st.isDirectory()) throw new Error(`${dir} (the grade key's folder) is not a folder`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} (the grade key's folder) belongs to user id ${st.uid}, not to you: someone else could replace the key`);
  if (process.platform !== 'win32' && (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} (the grade key's folder) can be written by others (mode ${(st.mode & 0o777).toString(8)}): chmod go-w ${dir}`);
  }
}

function mac(record: object, key: Buffer): string {
  const { signature: _omit, ...rest } = record as { signature?: string };
  void _omit;
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('hex');
}

/** The record with its `signature` (`hmac-sha256:<key id>:<hex>`). */
export function signGrade<T extends Grade>(grade: T, key: GradeKey): T {
  return { ...grade, signature: `${SIGNATURE_SCHEME}:${key.id}:${mac(grade, key.key)}` };
}

export interface VerifyResult {
  ok: boolean;
  /** What is wrong, or "signature valid". */
  reason: string;
  student?: string;
}

export function verifyGrade(record: unknown, key: GradeKey): VerifyResult {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return { ok: false, reason: 'not a grade record (expected a JSON object)' };
  const r = record as Partial<Grade>;
  const student = typeof r.student === 'string' ? r.student : undefined;
  if (typeof r.signature !== 'string' || !r.signature) return { ok: false, reason: 'not signed', student };
  const [scheme, keyId, hex] = r.signature.split(':');
  if (scheme !== SIGNATURE_SCHEME || !keyId || !hex || !/^[0-9a-f]{64}$/.test(hex)) return { ok: false, reason: `unknown signature format "${r.signature.slice(0, 40)}"`, student };
  if (keyId !== key.id) return { ok: false, reason: `signed with another key (key id ${keyId}; this machine's key is ${key.id}, from ${key.source})`, student };
  const expected = Buffer.from(mac(r, key.key), 'hex');
  const given = Buffer.from(hex, 'hex');
  const ok = expected.length === given.length && timingSafeEqual(expected, given);
  return ok ? { ok, reason: 'signature valid', student } : { ok, reason: 'the record was changed after it was signed', student };
}
