import { chmodSync, chownSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, gradeKey, keyFile, signGrade, verifyGrade } from '../../src/engine/report/sign.ts';
import { fakeGrade, tmpDir } from './fixtures.ts';

const env = { SECLAB_GRADE_KEY: 'test-key-1' };

describe('canonical JSON', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 'é' }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":"é","z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});

describe('signed grade records', () => {
  const key = gradeKey({ env });

  it('verify when untouched, also after a JSON round trip with other key order', () => {
    const signed = signGrade(fakeGrade(), key);
    expect(signed.signature).toMatch(/^hmac-sha256:[0-9a-f]{12}:[0-9a-f]{64}$/);
    expect(verifyGrade(signed, key)).toMatchObject({ ok: true, student: 'alice' });
    const reverse = (v: unknown): unknown => Array.isArray(v) ? v.map(reverse)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)])) : v;
    const reordered = JSON.parse(JSON.stringify(reverse(signed)));
    expect(Object.keys(reordered)[0]).toBe('signature');
    expect(verifyGrade(reordered, key).ok).toBe(true);
  });

  it('detect tampering anywhere in the record', () => {
    const signed = signGrade(fakeGrade(), key);
    const edits: ((g: typeof signed) => void)[] = [
      (g) => (g.score = 45),
      (g) => (g.labs[0]!.checks[1]!.passed = true),
      (g) => (g.student = 'mallory'),
      (g) => ((g as unknown as Record<string, unknown>)['extra'] = 1),
    ];
    for (const edit of edits) {
      const copy = structuredClone(signed);
      edit(copy);
      expect(verifyGrade(copy, key)).toMatchObject({ ok: false, reason: 'the record was changed after it was signed' });
    }
    const { signature: _s, ...unsigned } = signed;
    void _s;
    expect(verifyGrade(unsigned, key)).toMatchObject({ ok: false, reason: 'not signed' });
    expect(verifyGrade({ ...signed, signature: 'md5:x:y' }, key).ok).toBe(false);
    expect(verifyGrade([signed], key).ok).toBe(false);
  });

  it('tell a record signed with another key', () => {
    const signed = signGrade(fakeGrade(), gradeKey({ env: { SECLAB_GRADE_KEY: 'other' } }));
    expect(verifyGrade(signed, key).reason).toMatch(/signed with another key/);
  });

  it('create a key file with mode 0600 on first use, and reuse it', () => {
    const home = tmpDir('seclab-home-');
    const e = { HOME: home };
    expect(() => gradeKey({ env: e })).toThrow(/no grade key/);
    const k1 = gradeKey({ env: e, create: true });
    const file = keyFile(e);
    expect(file).toBe(path.join(home, '.config', 'seclab', 'grade-key'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const k2 = gradeKey({ env: e });
    expect(k2.id).toBe(k1.id);
    expect(verifyGrade(signGrade(fakeGrade(), k1), k2).ok).toBe(true);
  });

  it('refuse a key file others could have written or can read, a linked key, and a folder others can write', () => {
    const fresh = () => {
      const home = tmpDir('seclab-home-');
      const e = { HOME: home };
      gradeKey({ env: e, create: true });
      return { e, file: keyFile(e) };
    };
    const a = fresh();
    chmodSync(a.file, 0o644);
    expect(() => gradeKey({ env: a.e })).toThrow(/can be read or written by others \(mode 644\)/);
    expect(() => gradeKey({ env: a.e, create: true })).toThrow(/mode 644/);

    const b = fresh();
    rmSync(b.file);
    const elsewhere = path.join(tmpDir('seclab-planted-'), 'key');
    writeFileSync(elsewhere, 'known-to-the-attacker\n', { mode: 0o600 });
    symlinkSync(elsewhere, b.file);
    expect(() => gradeKey({ env: b.e, create: true })).toThrow(/not a regular file/);

    const c = fresh();
    chmodSync(path.dirname(c.file), 0o777);
    expect(() => gradeKey({ env: c.e })).toThrow(/can be written by others/);

    if (process.getuid?.() === 0) {
      // A key pre-created by another user (as a student would plant one before first use).
      const d = fresh();
      chownSync(d.file, 4242, 4242);
      expect(() => gradeKey({ env: d.e, create: true })).toThrow(/belongs to user id 4242/);
    }
  });

  it('create the key atomically: creators racing each other end up with one key', async () => {
    const home = tmpDir('seclab-home-');
    const { spawn } = await import('node:child_process');
    const code = `import('${new URL('../../src/engine/report/sign.ts', import.meta.url).href}').then((m) => console.log(m.gradeKey({ create: true }).id))`;
    const ids = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', '-e', code], { env: { ...process.env, HOME: home, SECLAB_GRADE_KEY: '' } });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (status) => (status === 0 ? resolve(out.trim()) : reject(new Error(`exit ${status}`))));
    })));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{12}$/);
    expect(readdirSync(path.dirname(keyFile({ HOME: home })))).toEqual(['grade-key']);
  });
});
