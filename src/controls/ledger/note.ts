// C2SP signed notes (c2sp.org/signed-note): a text signed by one or more keys, as Go's
// golang.org/x/mod/sumdb/note reads and writes them. Key formats are Go's: a verifier key (vkey)
// `<name>+<hex8 key ID>+<base64(type || public key)>` and a signer key (skey)
// `PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || 32-byte Ed25519 seed)>`.
// Three signature types are verified here: 0x01 Ed25519, 0x02 ECDSA (as transparency-dev/witness: key
// ID = SHA-256(DER SPKI)[:4], an ASN.1 DER signature over SHA-256(text), what KMS returns) and 0x04
// timestamped Ed25519 witness cosignatures (c2sp.org/tlog-cosignature).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

export const SIG_ED25519 = 0x01;
export const SIG_ECDSA = 0x02;
export const SIG_COSIGNATURE = 0x04;

/** Go's note.Open refuses more than 100 signatures; the spec asks for at least 16. */
export const MAX_SIGNATURES = 100;

export class NoteError extends Error {
  constructor(public code: string, message: string) {
    super(message);
    this.name = 'NoteError';
  }
}

export interface NoteSigner {
  name: string;
  keyId: number;
  /** The signature over `msg` (the note text), without the 4-byte key ID. */
  sign(msg: Buffer): Promise<Buffer>;
}

export interface NoteVerifier {
  name: string;
  keyId: number;
  type: number;
  /** Whether `sig` (without the key ID) is a valid signature of `msg` (the note text). */
  verify(msg: Buffer, sig: Buffer): boolean;
}

export interface OpenedNote {
  text: string;
  verified: { name: string; keyId: number; type: number; timestamp?: number }[];
  unknown: { name: string; keyId: number }[];
}

/** Non-empty, no Unicode space, no '+' (signed-note "Key names"). */
export function isValidKeyName(name: string): boolean {
  // Go's unicode.IsSpace (White_Space), which unlike JS's \s does not include U+FEFF.
  return name.length > 0 && wellFormed(name) && !/[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]/.test(name);
}

/** No lone UTF-16 surrogate (the string encodes to valid UTF-8). */
function wellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32 (signed-note, key ID). */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  return createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, type])).update(publicKey).digest().readUInt32BE(0);
}

export function hex8(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/** Strict standard base64 (RFC 4648 §4, padded): Buffer.from(…, 'base64') silently skips junk. */
export function decodeBase64(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

/** Valid UTF-8 text without ASCII control characters other than newline. Returns the problem, if any. */
function textProblem(s: string): string | undefined {
  if (!wellFormed(s)) return 'it is not valid UTF-8 (a lone surrogate)';
  // eslint-disable-next-line no-control-regex
  const m = /[\u0000-\u0009\u000b-\u001f]/.exec(s);
  if (m) return `it contains the control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${m.index}`;
  return undefined;
}

function toText(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw new NoteError('malformed', 'malformed note: it is not valid UTF-8');
  }
}

/** The text (with its final newline) and the raw signature lines: encoding and layout checks only. */
function splitRaw(note: string | Uint8Array): { text: string; lines: string[] } {
  const s = toText(note);
  const problem = textProblem(s);
  if (problem) throw new NoteError('malformed', `malformed note: ${problem}`);
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed', 'malformed note: no blank line between the text and the signatures');
  const text = s.slice(0, split + 1);
  const sigs = s.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) throw new NoteError('malformed', 'malformed note: it must end with a signature line and a newline');
  return { text, lines: sigs.slice(0, -1).split('\n') };
}

/** The text (with its final newline) and the signature lines (without newlines), checked for shape only. */
export function splitNote(note: string | Uint8Array): { text: string; lines: string[] } {
  const r = splitRaw(note);
  if (r.lines.length > MAX_SIGNATURES) throw new NoteError('malformed', `malformed note: more than ${MAX_SIGNATURES} signatures`);
  for (const line of r.lines) parseSignatureLine(line);
  return r;
}

/** One `— <name> <base64(keyID || sig)>` line (without its newline). */
export function parseSignatureLine(line: string): { name: string; keyId: number; sig: Buffer; b64: string } {
  if (!line.startsWith('— ')) throw new NoteError('malformed', `malformed note: a signature line must start with "— " (em dash, space): ${JSON.stringify(line.slice(0, 60))}`);
  const rest = line.slice(2);
  const sp = rest.indexOf(' ');
  const name = sp < 0 ? rest : rest.slice(0, sp);
  const b64 = sp < 0 ? '' : rest.slice(sp + 1);
  const raw = decodeBase64(b64);
  if (!isValidKeyName(name)) throw new NoteError('malformed', `malformed note: bad key name ${JSON.stringify(name)} in a signature line`);
  if (!raw || raw.length < 5) throw new NoteError('malformed', `malformed note: the signature of ${name} is not base64 of a key ID and a signature`);
  return { name, keyId: raw.readUInt32BE(0), sig: raw.subarray(4), b64 };
}

function formatSignatureLine(name: string, keyId: number, sig: Uint8Array): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(keyId >>> 0);
  return `— ${name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
}

function checkText(text: string): void {
  const problem = textProblem(text);
  if (problem) throw new NoteError('malformed', `cannot sign the text: ${problem}`);
  if (!text.endsWith('\n')) throw new NoteError('malformed', 'cannot sign the text: it must end with a newline');
}

/** Signs `text` (ending in a newline) with every signer, in order. */
export async function signNote(text: string, signers: NoteSigner[]): Promise<string> {
  checkText(text);
  if (signers.length === 0) throw new NoteError('no-signer', 'a note needs at least one signer');
  const msg = Buffer.from(text, 'utf8');
  let out = `${text}\n`;
  const seen = new Set<string>();
  for (const s of signers) {
    if (!isValidKeyName(s.name)) throw new NoteError('bad-key', `invalid signer name ${JSON.stringify(s.name)}: non-empty, no spaces, no '+'`);
    const k = `${s.name}+${hex8(s.keyId)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out += formatSignatureLine(s.name, s.keyId, await s.sign(msg));
  }
  return out;
}

/** Adds signature lines (e.g. a witness's cosignatures, with or without their newline) to a note; a line
 *  already there is not repeated. Signatures are not verified here: openNote does that. */
export function addSignatures(note: string, lines: string[]): string {
  const { text, lines: have } = splitNote(note);
  const all = [...have];
  for (const l of lines.flatMap((x) => x.split('\n')).filter((x) => x !== '')) {
    parseSignatureLine(l);
    if (!all.includes(l)) all.push(l);
  }
  if (all.length > MAX_SIGNATURES) throw new NoteError('malformed', `a note may carry at most ${MAX_SIGNATURES} signatures`);
  return `${text}\n${all.map((l) => `${l}\n`).join('')}`;
}

/**
 * Opens a signed note as Go's note.Open does: malformed notes are refused, signatures from unknown keys
 * (name and key ID not both known) are listed and ignored, a known key's signature that fails to verify
 * rejects the note, a key's repeated signature after its first is ignored, and at least one known key
 * must have signed.
 */
export function openNote(note: string | Uint8Array, verifiers: NoteVerifier[]): OpenedNote {
  const { text, lines } = splitRaw(note);
  const byKey = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    const k = `${v.name}+${hex8(v.keyId)}`;
    byKey.set(k, [...(byKey.get(k) ?? []), v]);
  }
  const msg = Buffer.from(text, 'utf8');
  const out: OpenedNote = { text, verified: [], unknown: [] };
  const seen = new Set<string>();
  const seenUnknown = new Set<string>();
  // Line by line, in Go's order: a line is parsed, counted and verified before the next is looked at.
  for (const [i, line] of lines.entries()) {
    const { name, keyId, sig } = parseSignatureLine(line);
    if (i >= MAX_SIGNATURES) throw new NoteError('malformed', `malformed note: more than ${MAX_SIGNATURES} signatures`);
    const k = `${name}+${hex8(keyId)}`;
    const vs = byKey.get(k);
    if (!vs) {
      if (!seenUnknown.has(line)) out.unknown.push({ name, keyId });
      seenUnknown.add(line);
      continue;
    }
    if (vs.length > 1) throw new NoteError('ambiguous-key', `two trusted keys share the name and key ID ${k}: remove one from the trusted keys`);
    if (seen.has(k)) continue;
    seen.add(k);
    const v = vs[0]!;
    if (!v.verify(msg, sig)) throw new NoteError('bad-signature', `the signature of the known key ${k} does not verify: the note was altered or signed by another key`);
    const entry: OpenedNote['verified'][number] = { name, keyId, type: v.type };
    if (v.type === SIG_COSIGNATURE) entry.timestamp = Number(sig.readBigUInt64BE(0));
    out.verified.push(entry);
  }
  if (out.verified.length === 0) {
    const names = out.unknown.map((u) => `${u.name}+${hex8(u.keyId)}`).join(', ');
    throw new NoteError('unverified', `the note has no signature from a trusted key (signed by: ${names || 'nobody'}); check the trusted vkeys`);
  }
  return out;
}

// ---- keys ----

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicKey(pub: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
}

export function ed25519RawPublic(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}

export interface ParsedVkey { name: string; keyId: number; type: number; key: Buffer }
export interface ParsedSkey { name: string; keyId: number; seed: Buffer; publicKey: Buffer }

/** Splits at the first n-1 '+' (the base64 key itself may contain '+'), like Go's strings.Cut chain. */
function cut(s: string, n: number): string[] | undefined {
  const out: string[] = [];
  let rest = s;
  for (let i = 0; i < n - 1; i++) {
    const j = rest.indexOf('+');
    if (j < 0) return undefined;
    out.push(rest.slice(0, j));
    rest = rest.slice(j + 1);
  }
  out.push(rest);
  return out;
}

/** `<name>+<hex8>+<base64(type || key)>`; checks the shape and, for types it knows, the key ID. */
export function parseVkey(vkey: string): ParsedVkey {
  const parts = cut(vkey.trim(), 3);
  const bad = (why: string) => new NoteError('bad-key', `bad verifier key ${JSON.stringify(vkey.slice(0, 80))}: ${why} (expected <name>+<8 hex digits>+<base64 key>)`);
  if (!parts) throw bad('it must have three parts separated by "+"');
  const [name, h, b64] = parts as [string, string, string];
  if (!isValidKeyName(name)) throw bad('invalid key name');
  if (!/^[0-9a-f]{8}$/i.test(h)) throw bad('the key ID is not 8 hex digits');
  const raw = decodeBase64(b64);
  if (!raw || raw.length < 2) throw bad('the key is not base64');
  const keyId = parseInt(h, 16) >>> 0;
  const type = raw[0]!;
  const key = raw.subarray(1);
  const expected = type === SIG_ECDSA ? createHash('sha256').update(key).digest().readUInt32BE(0) : noteKeyId(name, type, key);
  if (expected !== keyId) throw bad(`the key ID ${h} does not match the key (expected ${hex8(expected)})`);
  return { name, keyId, type, key };
}

/** `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>` (Ed25519 only, like Go's note.NewSigner). */
export function parseSkey(skey: string): ParsedSkey {
  const parts = cut(skey.trim(), 5);
  const bad = (why: string) => new NoteError('bad-key', `bad signer key: ${why} (expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>, as made by generateEd25519Key or Go's note.GenerateKey)`);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw bad('it must start with PRIVATE+KEY+ and have five parts');
  const [, , name, h, b64] = parts as [string, string, string, string, string];
  if (!isValidKeyName(name)) throw bad('invalid key name');
  if (!/^[0-9a-f]{8}$/i.test(h)) throw bad('the key ID is not 8 hex digits');
  const raw = decodeBase64(b64);
  if (!raw || raw.length !== 33 || raw[0] !== SIG_ED25519) throw bad('the key is not base64 of 0x01 and a 32-byte Ed25519 seed');
  const seed = Buffer.from(raw.subarray(1));
  const publicKey = ed25519RawPublic(createPublicKey(ed25519PrivateKey(seed)));
  const keyId = parseInt(h, 16) >>> 0;
  if (noteKeyId(name, SIG_ED25519, publicKey) !== keyId) throw bad(`the key ID ${h} does not match the key`);
  return { name, keyId, seed, publicKey };
}

function formatVkey(name: string, keyId: number, type: number, key: Uint8Array): string {
  return `${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([type]), key]).toString('base64')}`;
}

/** A new Ed25519 key pair in Go's note formats (the skey holds the 32-byte seed). `seed` makes it
 *  reproducible (tests, keys derived from a recorded seed); without it the key is random. */
export function generateEd25519Key(name: string, seed?: Uint8Array): { skey: string; vkey: string } {
  if (!isValidKeyName(name)) throw new NoteError('bad-key', `invalid key name ${JSON.stringify(name)}: non-empty, no spaces, no '+' (e.g. example.com/log)`);
  if (seed !== undefined && seed.length !== 32) throw new NoteError('bad-key', `an Ed25519 seed is 32 bytes, not ${seed.length}`);
  const privateKey = seed ? ed25519PrivateKey(seed) : generateKeyPairSync('ed25519').privateKey;
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const raw = pkcs8.subarray(pkcs8.length - 32);
  const pub = ed25519RawPublic(createPublicKey(privateKey));
  const keyId = noteKeyId(name, SIG_ED25519, pub);
  return {
    skey: `PRIVATE+KEY+${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([SIG_ED25519]), raw]).toString('base64')}`,
    vkey: formatVkey(name, keyId, SIG_ED25519, pub),
  };
}

/** The vkey of an skey (Ed25519, type 0x01). */
export function vkeyOfSkey(skey: string): string {
  const s = parseSkey(skey);
  return formatVkey(s.name, s.keyId, SIG_ED25519, s.publicKey);
}

export function ed25519Signer(skey: string): NoteSigner {
  const { name, keyId, seed } = parseSkey(skey);
  const key = ed25519PrivateKey(seed);
  return { name, keyId, sign: async (msg) => cryptoSign(null, msg, key) };
}

/** The message a 0x04 cosignature signs (c2sp.org/tlog-cosignature, Ed25519 signed message). */
export function cosignedMessage(timestamp: bigint, text: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${timestamp}\n`, 'utf8'), text]);
}

function safeVerify(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false; // a malformed DER signature throws in node:crypto: it is simply not valid
  }
}

/** A verifier for a vkey of type 0x01 (Ed25519), 0x02 (ECDSA, SPKI) or 0x04 (Ed25519 cosignature). */
export function verifierFromVkey(vkey: string): NoteVerifier {
  const { name, keyId, type, key } = parseVkey(vkey);
  if (type === SIG_ED25519 || type === SIG_COSIGNATURE) {
    if (key.length !== 32) throw new NoteError('bad-key', `bad verifier key for ${name}: an Ed25519 key is 32 bytes, not ${key.length}`);
    const pub = ed25519PublicKey(key);
    if (type === SIG_ED25519) return { name, keyId, type, verify: (msg, sig) => sig.length === 64 && safeVerify(() => cryptoVerify(null, msg, pub, sig)) };
    return {
      name, keyId, type,
      verify: (msg, sig) => {
        if (sig.length !== 72) return false;
        const t = sig.readBigUInt64BE(0);
        if (t > 0x7fffffffffffffffn) return false;
        return safeVerify(() => cryptoVerify(null, cosignedMessage(t, msg), pub, sig.subarray(8)));
      },
    };
  }
  if (type === SIG_ECDSA) {
    let pub: KeyObject;
    try {
      pub = createPublicKey({ key, format: 'der', type: 'spki' });
    } catch {
      throw new NoteError('bad-key', `bad verifier key for ${name}: type 0x02 needs a DER SubjectPublicKeyInfo`);
    }
    const curve = pub.asymmetricKeyDetails?.namedCurve;
    if (pub.asymmetricKeyType !== 'ec' || !['prime256v1', 'secp384r1', 'secp521r1'].includes(curve ?? '')) {
      throw new NoteError('bad-key', `bad verifier key for ${name}: type 0x02 is ECDSA on P-256, P-384 or P-521, not ${pub.asymmetricKeyType} ${curve ?? ''}`);
    }
    // The signature is over SHA-256(text) whatever the curve (transparency-dev/witness; KMS ECDSA_SHA_256).
    return { name, keyId, type, verify: (msg, sig) => safeVerify(() => cryptoVerify('sha256', msg, { key: pub, dsaEncoding: 'der' }, sig)) };
  }
  throw new NoteError('bad-key', `unsupported signature type 0x${type.toString(16).padStart(2, '0')} in the verifier key of ${name} (supported: 0x01 Ed25519, 0x02 ECDSA, 0x04 cosignature)`);
}
