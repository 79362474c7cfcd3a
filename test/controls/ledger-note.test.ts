// Signed notes, checkpoints and signers (src/controls/ledger/note.ts, checkpoint.ts, signers.ts,
// cosignature.ts): c2sp.org/signed-note parsing as strict as Go's note.Open, key formats as Go's, the
// published known-answer vector of Go's note package, ECDSA (0x02) and cosignatures (0x04), and the
// KMS signer against the real lab cloud, whose key policy decides who may sign.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { KMSClient, CreateKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import {
  addSignatures, ed25519Signer, generateEd25519Key, NoteError, openNote, parseSkey, parseVkey, signNote, verifierFromVkey, vkeyOfSkey,
} from '../../src/controls/ledger/note.ts';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../../src/controls/ledger/checkpoint.ts';
import { cosigner, cosignatureVkey } from '../../src/controls/ledger/cosignature.ts';
import { ecdsaSigner, ecdsaVkey, kmsSigner } from '../../src/controls/ledger/signers.ts';
import { Random } from '../../src/engine/random.ts';
import { useLabCloud } from '../helpers/cloud.ts';

// The published known-answer vector of Go's golang.org/x/mod/sumdb/note (its note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof NoteError) return e.code;
    throw e;
  }
  return 'ok';
}

describe('signed notes (c2sp.org/signed-note)', () => {
  it("reproduces Go's published signature byte for byte and derives its vkey from its skey", async () => {
    expect(await signNote(TEXT, [ed25519Signer(PETER_SKEY)])).toBe(`${TEXT}\n${PETER_SIG}`);
    expect(vkeyOfSkey(PETER_SKEY)).toBe(PETER_VKEY);
    const opened = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [verifierFromVkey(PETER_VKEY)]);
    expect(opened.text).toBe(TEXT);
    expect(opened.verified).toEqual([{ name: 'PeterNeumann', keyId: 0xc74f20a3, type: 1 }]);
    expect(opened.unknown).toEqual([{ name: 'EnochRoot', keyId: 0xaf0cfe78 }]);
    const both = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [verifierFromVkey(PETER_VKEY), verifierFromVkey(ENOCH_VKEY)]);
    expect(both.verified.map((v) => v.name)).toEqual(['PeterNeumann', 'EnochRoot']);
  });

  it('generated keys have the formats of Go note.GenerateKey and sign notes that open', async () => {
    const { skey, vkey } = generateEd25519Key('example.com/log');
    expect(skey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(vkey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(vkeyOfSkey(skey)).toBe(vkey);
    expect(parseSkey(skey).seed).toHaveLength(32);
    expect(Buffer.from(vkey.slice(vkey.indexOf('+', vkey.indexOf('+') + 1) + 1), 'base64')[0]).toBe(1);
    const note = await signNote('hello\n', [ed25519Signer(skey)]);
    expect(openNote(note, [verifierFromVkey(vkey)]).text).toBe('hello\n');
    // Another key with the same name does not verify: its key ID differs, so the signature is unknown.
    const other = generateEd25519Key('example.com/log');
    expect(code(() => openNote(note, [verifierFromVkey(other.vkey)]))).toBe('unverified');
  });

  it('refuses a known key whose signature does not verify, and a note no trusted key signed', () => {
    const tampered = `${TEXT.replace('problem', 'pr0blem')}\n${PETER_SIG}`;
    expect(code(() => openNote(tampered, [verifierFromVkey(PETER_VKEY)]))).toBe('bad-signature');
    expect(code(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [verifierFromVkey(PETER_VKEY)]))).toBe('unverified');
    // A corrupted signature of an unknown key is ignored (MUST ignore unknown keys).
    const badEnoch = ENOCH_SIG.slice(0, 60) + 'ABCD' + ENOCH_SIG.slice(60);
    expect(openNote(`${TEXT}\n${PETER_SIG}${badEnoch}`, [verifierFromVkey(PETER_VKEY)]).unknown).toHaveLength(1);
  });

  it("handles duplicates as Go does: a known key's repeats are ignored, identical unknown lines listed once", () => {
    const badEnoch = ENOCH_SIG.slice(0, 60) + 'ABCD' + ENOCH_SIG.slice(60);
    const badPeter = PETER_SIG.slice(0, 60) + 'ABCD' + PETER_SIG.slice(60);
    const o = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${badPeter}${ENOCH_SIG}${ENOCH_SIG}${badEnoch}`, [verifierFromVkey(PETER_VKEY)]);
    expect(o.verified).toHaveLength(1);
    expect(o.unknown).toHaveLength(2);
    // The first signature of a known key decides: a bad one first rejects the note.
    expect(code(() => openNote(`${TEXT}\n${badPeter}${PETER_SIG}`, [verifierFromVkey(PETER_VKEY)]))).toBe('bad-signature');
  });

  it('refuses malformed notes (the cases of Go note.Open) with a message saying what is wrong', () => {
    const v = [verifierFromVkey(PETER_VKEY)];
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      `\uD800${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n`,
      `${TEXT}\n— PeterNeumann AAAA\n`,
      `${TEXT}\n— Peter+Neumann ${PETER_SIG.split(' ')[2]}`,
      `${TEXT}\r\n${PETER_SIG}`,
    ];
    for (const n of bad) expect(code(() => openNote(n, v)), JSON.stringify(n)).toBe('malformed');
    expect(code(() => openNote(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]), v))).toBe('malformed');
    try {
      openNote(`\x01${TEXT}\n${PETER_SIG}`, v);
    } catch (e) {
      expect((e as Error).message).toMatch(/control character U\+0001 at offset 0/);
    }
  });

  it('accepts 16 signatures and more up to 100, refuses 101', async () => {
    const keys = Array.from({ length: 101 }, (_, i) => generateEd25519Key(`k${i}`));
    const signers = keys.map((k) => ed25519Signer(k.skey));
    const n16 = await signNote('t\n', signers.slice(0, 16));
    expect(openNote(n16, keys.slice(0, 16).map((k) => verifierFromVkey(k.vkey))).verified).toHaveLength(16);
    const n100 = await signNote('t\n', signers.slice(0, 100));
    expect(openNote(n100, [verifierFromVkey(keys[99]!.vkey)]).unknown).toHaveLength(99);
    const n101 = await signNote('t\n', signers);
    expect(code(() => openNote(n101, [verifierFromVkey(keys[0]!.vkey)]))).toBe('malformed');
  });

  it('round-trips any valid text, including blank lines inside it (the last blank line splits)', async () => {
    const k = generateEd25519Key('example.com/prop');
    const signer = ed25519Signer(k.skey);
    const verifier = verifierFromVkey(k.vkey);
    const seed = 'ledger-note-roundtrip';
    const rnd = new Random(seed);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\u0000-\u001f]/g, '')), { maxLength: 6 }), async (lines) => {
        const text = lines.map((l) => `${l}\n`).join('') || '\n';
        const note = await signNote(text, [signer]);
        expect(openNote(note, [verifier]).text).toBe(text);
      }),
      { seed: Math.floor(rnd.next() * 2 ** 31), numRuns: 200 },
    );
  });

  it('refuses to sign a text without a final newline or with control characters', async () => {
    const s = ed25519Signer(PETER_SKEY);
    await expect(signNote('no newline', [s])).rejects.toThrow(/must end with a newline/);
    await expect(signNote('tab\there\n', [s])).rejects.toThrow(/control character U\+0009/);
  });

  it('vkeys with a wrong key ID, length or type are refused', () => {
    expect(code(() => parseVkey('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe('bad-key');
    expect(code(() => parseVkey('PeterNeumann+c74f20a3'))).toBe('bad-key');
    expect(code(() => verifierFromVkey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='))).toBe('bad-key');
    expect(code(() => parseSkey(PETER_SKEY.replace('c74f20a3', 'c74f20a4')))).toBe('bad-key');
  });

  it('addSignatures merges new lines once and keeps the note openable', async () => {
    const note = `${TEXT}\n${PETER_SIG}`;
    const merged = addSignatures(note, [ENOCH_SIG, PETER_SIG]);
    expect(merged).toBe(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`);
    expect(code(() => addSignatures(note, ['not a signature']))).toBe('malformed');
  });
});

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  const root = Buffer.alloc(32, 7);
  it('formats and parses origin, size, root and extension lines', () => {
    const text = formatCheckpoint({ origin: 'example.com/log', size: 20852163, root, extensions: ['ext one'] });
    expect(text).toBe(`example.com/log\n20852163\n${root.toString('base64')}\next one\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: 'example.com/log', size: 20852163, root, extensions: ['ext one'] });
  });
  it('refuses leading zeros, short roots, missing lines and empty extension lines', () => {
    const r = root.toString('base64');
    for (const t of [`o\n01\n${r}\n`, `o\n1\n${r.slice(4)}\n`, `o\n1\n`, `\n1\n${r}\n`, `o\n1\n${r}\n\nx\n`, `o\n-1\n${r}\n`, `o\n1\n${r}`, `o\n99999999999999999999\n${r}\n`]) {
      expect(code(() => parseCheckpoint(t)), JSON.stringify(t)).toBe('bad-checkpoint');
    }
  });
  it('openCheckpoint verifies the signature and the origin', async () => {
    const k = generateEd25519Key('example.com/log');
    const note = await signNote(formatCheckpoint({ origin: 'example.com/log', size: 3, root, extensions: [] }), [ed25519Signer(k.skey)]);
    expect(openCheckpoint(note, [verifierFromVkey(k.vkey)], 'example.com/log').checkpoint.size).toBe(3);
    expect(code(() => openCheckpoint(note, [verifierFromVkey(k.vkey)], 'example.com/other'))).toBe('wrong-origin');
  });
});

describe('cosignatures (c2sp.org/tlog-cosignature, type 0x04)', () => {
  it('carry the lab-clock time in seconds, verify only as cosignatures, and break when the time is changed', async () => {
    const w = generateEd25519Key('witness.example/w1');
    const cos = cosigner(w.skey, () => 1_679_315_147_999);
    const vkey = cosignatureVkey(w.vkey);
    expect(cosignatureVkey(w.skey)).toBe(vkey);
    expect(Buffer.from(vkey.slice(vkey.indexOf('+', vkey.indexOf('+') + 1) + 1), 'base64')[0]).toBe(4);
    expect(vkey.split('+')[1]).not.toBe(w.vkey.split('+')[1]); // key ID over type 0x04, not 0x01
    const text = formatCheckpoint({ origin: 'example.com/log', size: 5, root: Buffer.alloc(32, 1), extensions: [] });
    const note = await signNote(text, [cos]);
    const o = openNote(note, [verifierFromVkey(vkey)]);
    expect(o.verified).toEqual([{ name: 'witness.example/w1', keyId: cos.keyId, type: 4, timestamp: 1_679_315_147 }]);
    // The same key as a plain Ed25519 (0x01) verifier does not know the line (different key ID).
    expect(code(() => openNote(note, [verifierFromVkey(w.vkey)]))).toBe('unverified');
    // Changing the timestamp bytes breaks the signature.
    const line = note.split('\n\n')[1]!.trim();
    const raw = Buffer.from(line.split(' ')[2]!, 'base64');
    raw.writeBigUInt64BE(1_679_315_148n, 4);
    const forged = `${text}\n— witness.example/w1 ${raw.toString('base64')}\n`;
    expect(code(() => openNote(forged, [verifierFromVkey(vkey)]))).toBe('bad-signature');
  });
});

describe('ECDSA signatures (type 0x02)', () => {
  it('key ID is SHA-256 of the SPKI, signatures are DER over SHA-256 of the text', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const s = ecdsaSigner(privateKey, 'example.com/log');
    expect(s.vkey.startsWith(`example.com/log+${s.keyId.toString(16).padStart(8, '0')}+AjBZ`)).toBe(true); // 0x02 || SEQUENCE
    const note = await signNote('example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', [s]);
    expect(openNote(note, [verifierFromVkey(s.vkey)]).verified[0]!.type).toBe(2);
    const other = ecdsaSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'example.com/log');
    expect(code(() => openNote(note, [verifierFromVkey(other.vkey)]))).toBe('unverified');
    const { publicKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(code(() => ecdsaVkey('x', rsa.export({ format: 'der', type: 'spki' })))).toBe('bad-key');
  });
});

describe('kmsSigner on the lab cloud', () => {
  const { cloud } = useLabCloud();

  it('signs checkpoints with an ECC_NIST_P256 key; a principal the key policy does not allow cannot sign', async () => {
    const c = cloud();
    const root = c.createAccount();
    const rootCreds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
    const iam = c.client(IAMClient, { credentials: rootCreds });
    const user = async (name: string) => {
      await iam.send(new CreateUserCommand({ UserName: name }));
      await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'kms', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }) }));
      const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
      return { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
    };
    const ledger = await user('ledger');
    const admin = await user('admin');
    const arn = (n: string) => `arn:aws:iam::${root.accountId}:user/${n}`;
    // The account may administer the key but only `ledger` may Sign (IAM policies cannot add what the key policy withholds).
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${root.accountId}:root` }, Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:PutKeyPolicy', 'kms:Verify'], Resource: '*' },
        { Sid: 'sign', Effect: 'Allow', Principal: { AWS: arn('ledger') }, Action: ['kms:Sign', 'kms:GetPublicKey'], Resource: '*' },
      ],
    };
    const { KeyMetadata } = await c.client(KMSClient, { credentials: rootCreds }).send(new CreateKeyCommand({
      KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Policy: JSON.stringify(policy), BypassPolicyLockoutSafetyCheck: true,
    }));
    const signer = await kmsSigner(c.client(KMSClient, { credentials: ledger }), KeyMetadata!.KeyId!, 'example.com/ledger');
    expect(parseVkey(signer.vkey).type).toBe(2);
    const text = formatCheckpoint({ origin: 'example.com/ledger', size: 1, root: Buffer.alloc(32, 9), extensions: [] });
    const note = await signNote(text, [signer]);
    const opened = openCheckpoint(note, [verifierFromVkey(signer.vkey)], 'example.com/ledger');
    expect(opened.note.verified).toEqual([{ name: 'example.com/ledger', keyId: signer.keyId, type: 2 }]);

    // admin has kms:* in IAM, which the key policy's account statement does not extend to Sign.
    const adminKms = c.client(KMSClient, { credentials: admin });
    const adminSigner = await kmsSigner(adminKms, KeyMetadata!.KeyId!, 'example.com/ledger'); // GetPublicKey is allowed (kms:Get*)
    await expect(signNote(text, [adminSigner])).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(adminKms.send(new SignCommand({ KeyId: KeyMetadata!.KeyId!, Message: Buffer.from(text), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' })))
      .rejects.toMatchObject({ name: 'AccessDeniedException' });
  }, 60_000);

  it('refuses a key that is not ECC_NIST_P256 SIGN_VERIFY, saying what it needs', async () => {
    const c = cloud();
    const root = c.createAccount();
    const kms = c.client(KMSClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }));
    await expect(kmsSigner(kms, KeyMetadata!.KeyId!, 'example.com/ledger')).rejects.toThrow(/must be ECC_NIST_P256 with key usage SIGN_VERIFY/);
  }, 60_000);
});
