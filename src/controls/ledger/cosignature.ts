// C2SP tlog-cosignature, Ed25519 type 0x04: a witness's timestamped signature over
// `cosignature/v1\ntime <t>\n` + the checkpoint text, with t the POSIX time in seconds; the signature
// bytes are keyID || uint64 BE t || Ed25519 signature. The witness key is an Ed25519 skey (note.ts); its
// key ID as a cosigner is computed with type byte 0x04, so one key cannot be confused with a log key.
import {
  cosignedMessage, ed25519PrivateKey, NoteError, noteKeyId, parseSkey, parseVkey, SIG_COSIGNATURE, SIG_ED25519, hex8,
  type NoteSigner,
} from './note.ts';
import { sign as cryptoSign } from 'node:crypto';

/** A 0x04 cosigner from an Ed25519 skey; `now` is the lab clock in milliseconds. */
export function cosigner(skey: string, now: () => number): NoteSigner {
  const { name, seed, publicKey } = parseSkey(skey);
  const key = ed25519PrivateKey(seed);
  return {
    name,
    keyId: noteKeyId(name, SIG_COSIGNATURE, publicKey),
    sign: async (msg) => {
      const ms = now();
      if (!Number.isFinite(ms) || ms < 0) throw new NoteError('bad-time', `the clock returned ${ms}: a cosignature needs a time after 1970`);
      const t = BigInt(Math.floor(ms / 1000));
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(t);
      return Buffer.concat([ts, cryptoSign(null, cosignedMessage(t, msg), key)]);
    },
  };
}

/** The 0x04 vkey of a witness, from its Ed25519 (0x01) vkey or skey, or a 0x04 vkey (returned as is). */
export function cosignatureVkey(vkeyOrSkey: string): string {
  let name: string, pub: Buffer;
  if (vkeyOrSkey.trim().startsWith('PRIVATE+KEY+')) {
    const s = parseSkey(vkeyOrSkey);
    name = s.name;
    pub = s.publicKey;
  } else {
    const v = parseVkey(vkeyOrSkey);
    if (v.type === SIG_COSIGNATURE) return vkeyOrSkey.trim();
    if (v.type !== SIG_ED25519 || v.key.length !== 32) throw new NoteError('bad-key', `a cosigner key is Ed25519: ${v.name}'s vkey has type 0x${v.type.toString(16).padStart(2, '0')}`);
    name = v.name;
    pub = v.key;
  }
  return `${name}+${hex8(noteKeyId(name, SIG_COSIGNATURE, pub))}+${Buffer.concat([Buffer.from([SIG_COSIGNATURE]), pub]).toString('base64')}`;
}

/** The timestamp (seconds) of a 0x04 signature's bytes (after the key ID). */
export function cosignatureTime(sig: Buffer): number {
  if (sig.length !== 72) throw new NoteError('malformed', `a cosignature is 72 bytes after the key ID, not ${sig.length}`);
  return Number(sig.readBigUInt64BE(0));
}
