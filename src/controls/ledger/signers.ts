// Signers for checkpoints. The log's key lives in KMS (an asymmetric ECC_NIST_P256 SIGN_VERIFY key): KMS
// Sign with ECDSA_SHA_256 and MessageType RAW hashes the note text with SHA-256 and returns an ASN.1 DER
// ECDSA signature, which is exactly signature type 0x02 of c2sp.org/signed-note (as
// transparency-dev/witness defines it). The private key never leaves KMS; who may sign is the key policy.
import { createHash, createPublicKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { hex8, isValidKeyName, NoteError, SIG_ECDSA, verifierFromVkey, type NoteSigner } from './note.ts';

/** The 0x02 vkey `<name>+<hex8(SHA-256(SPKI)[:4])>+<base64(0x02 || SPKI DER)>`. */
export function ecdsaVkey(name: string, spkiDer: Buffer): string {
  if (!isValidKeyName(name)) throw new NoteError('bad-key', `invalid key name ${JSON.stringify(name)}: non-empty, no spaces, no '+'`);
  const keyId = createHash('sha256').update(spkiDer).digest().readUInt32BE(0);
  const vkey = `${name}+${hex8(keyId)}+${Buffer.concat([Buffer.from([SIG_ECDSA]), spkiDer]).toString('base64')}`;
  verifierFromVkey(vkey); // refuses a key that is not ECDSA on a NIST curve
  return vkey;
}

/** A 0x02 signer over a KMS key (ECC_NIST_P256, SIGN_VERIFY). The caller's credentials must be allowed
 *  kms:GetPublicKey (once, here) and kms:Sign (on every checkpoint) by the key policy. */
export async function kmsSigner(kms: KMSClient, keyId: string, name: string): Promise<NoteSigner & { vkey: string }> {
  const pk = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  const spec = pk.KeySpec ?? pk.CustomerMasterKeySpec;
  const need = `a checkpoint key must be ECC_NIST_P256 with key usage SIGN_VERIFY (aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY)`;
  if (!pk.PublicKey) throw new NoteError('bad-key', `KMS returned no public key for ${keyId}`);
  // The SPKI itself decides the curve (an emulator may leave KeySpec out).
  const curve = (() => {
    try {
      return createPublicKey({ key: Buffer.from(pk.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve;
    } catch {
      return undefined;
    }
  })();
  if ((spec !== undefined && spec !== 'ECC_NIST_P256') || pk.KeyUsage !== 'SIGN_VERIFY' || curve !== 'prime256v1') {
    throw new NoteError('bad-key', `KMS key ${keyId} is ${spec ?? curve ?? '?'} for ${pk.KeyUsage ?? '?'}: ${need}`);
  }
  if (pk.SigningAlgorithms && !pk.SigningAlgorithms.includes('ECDSA_SHA_256')) throw new NoteError('bad-key', `KMS key ${keyId} does not offer ECDSA_SHA_256: ${need}`);
  const vkey = ecdsaVkey(name, Buffer.from(pk.PublicKey));
  const v = verifierFromVkey(vkey);
  const kmsKey = pk.KeyId ?? keyId;
  return {
    name,
    keyId: v.keyId,
    vkey,
    sign: async (msg) => {
      if (msg.length > 4096) throw new NoteError('too-large', `KMS signs at most 4096 bytes of raw message; the note text is ${msg.length} bytes`);
      const r = await kms.send(new SignCommand({ KeyId: kmsKey, Message: msg, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
      if (!r.Signature) throw new NoteError('sign-failed', `KMS Sign with ${kmsKey} returned no signature`);
      const sig = Buffer.from(r.Signature);
      // Never publish a signature our own verifier (and so every verifier) would refuse.
      if (!v.verify(msg, sig)) throw new NoteError('sign-failed', `KMS Sign with ${kmsKey} returned a signature that does not verify against its public key`);
      return sig;
    },
  };
}

/** A 0x02 signer over a local ECDSA private key (tests and offline use); same format as kmsSigner. */
export function ecdsaSigner(privateKey: KeyObject, name: string): NoteSigner & { vkey: string } {
  if (privateKey.asymmetricKeyType !== 'ec') throw new NoteError('bad-key', 'an ECDSA signer needs an EC private key');
  const spki = Buffer.from(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  const vkey = ecdsaVkey(name, spki);
  const { keyId } = verifierFromVkey(vkey);
  return { name, keyId, vkey, sign: async (msg) => cryptoSign('sha256', msg, { key: privateKey, dsaEncoding: 'der' }) };
}
