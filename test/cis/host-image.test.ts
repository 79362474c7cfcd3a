// The host lab's instance copies: writing into a copy never writes through to the image (hard links) or
// out of the root (symbolic links planted in it); cloning keeps /usr shared and the rest private.
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneImage, MANIFEST, writeInstanceFile } from '../../src/host/image.ts';

function fakeImage(): string {
  const img = mkdtempSync(path.join(os.tmpdir(), 'seclab-img-'));
  for (const d of ['usr/bin', 'etc/ssh', 'var/lib']) mkdirSync(path.join(img, d), { recursive: true });
  writeFileSync(path.join(img, 'usr/bin/tool'), 'original\n');
  writeFileSync(path.join(img, 'etc/ssh/sshd_config'), 'PermitRootLogin yes\n', { mode: 0o600 });
  symlinkSync('usr/bin', path.join(img, 'bin'));
  writeFileSync(path.join(img, MANIFEST), '{}\n');
  return img;
}

describe('instance copies of the image', () => {
  it('link-usr shares /usr by hard links and copies /etc; writing a copied /usr file leaves the image alone', async () => {
    const img = fakeImage();
    const inst = (await cloneImage(path.join(mkdtempSync(path.join(os.tmpdir(), 'seclab-inst-')), 'i-1'), { image: img })).path;
    expect(statSync(path.join(inst, 'usr/bin/tool')).ino).toBe(statSync(path.join(img, 'usr/bin/tool')).ino);
    expect(statSync(path.join(inst, 'etc/ssh/sshd_config')).ino).not.toBe(statSync(path.join(img, 'etc/ssh/sshd_config')).ino);
    expect(lstatSync(path.join(inst, 'bin')).isSymbolicLink()).toBe(true);
    await writeInstanceFile(inst, '/bin/tool', 'changed\n'); // through the bin -> usr/bin link, inside the root
    expect(readFileSync(path.join(inst, 'usr/bin/tool'), 'utf8')).toBe('changed\n');
    expect(readFileSync(path.join(img, 'usr/bin/tool'), 'utf8')).toBe('original\n');
  });

  it('a replaced file keeps its mode; a new one gets 0644 or the mode asked', async () => {
    const inst = (await cloneImage(path.join(mkdtempSync(path.join(os.tmpdir(), 'seclab-inst-')), 'i-2'), { image: fakeImage(), mode: 'copy' })).path;
    await writeInstanceFile(inst, 'etc/ssh/sshd_config', 'PermitRootLogin no\n');
    expect(statSync(path.join(inst, 'etc/ssh/sshd_config')).mode & 0o777).toBe(0o600);
    await writeInstanceFile(inst, 'etc/sudoers.d/90-admins', '%admin ALL=(ALL) ALL\n', 0o440);
    expect(statSync(path.join(inst, 'etc/sudoers.d/90-admins')).mode & 0o777).toBe(0o440);
  });

  it('a symbolic link planted in the root is followed inside it, never onto the machine', async () => {
    const inst = (await cloneImage(path.join(mkdtempSync(path.join(os.tmpdir(), 'seclab-inst-')), 'i-3'), { image: fakeImage(), mode: 'copy' })).path;
    const outside = mkdtempSync(path.join(os.tmpdir(), 'seclab-outside-'));
    symlinkSync(outside, path.join(inst, 'etc/evil')); // absolute link to a folder of the machine
    symlinkSync('../../../../../../../../..' + outside, path.join(inst, 'etc/evil2'));
    // Inside the root those links point at a folder that does not exist there: ENOENT, as on the instance.
    await expect(writeInstanceFile(inst, '/etc/evil/owned', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(writeInstanceFile(inst, '/etc/evil2/owned', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(path.join(outside, 'owned'))).toBe(false);
    // A link to a folder that exists in the root is followed there.
    mkdirSync(path.join(inst, outside), { recursive: true });
    const a = await writeInstanceFile(inst, '/etc/evil/owned', 'x');
    expect(a).toBe(path.join(inst, outside, 'owned'));
    expect(existsSync(path.join(outside, 'owned'))).toBe(false);
    // A final component that is a link is replaced, not written through.
    symlinkSync(path.join(outside, 'target'), path.join(inst, 'etc/motd'));
    await writeInstanceFile(inst, '/etc/motd', 'hello');
    expect(existsSync(path.join(outside, 'target'))).toBe(false);
    expect(lstatSync(path.join(inst, 'etc/motd')).isFile()).toBe(true);
    await expect(writeInstanceFile(inst, '../../etc/passwd', 'x')).resolves.toBe(path.join(inst, 'etc/passwd'));
  });

  it('a hard-linked /usr file replaced through writeInstanceFile is a new inode', async () => {
    const img = fakeImage();
    const inst = (await cloneImage(path.join(mkdtempSync(path.join(os.tmpdir(), 'seclab-inst-')), 'i-4'), { image: img })).path;
    const before = statSync(path.join(inst, 'usr/bin/tool')).ino;
    await writeInstanceFile(inst, 'usr/bin/tool', 'new\n');
    expect(statSync(path.join(inst, 'usr/bin/tool')).ino).not.toBe(before);
    expect(() => linkSync(path.join(img, 'usr/bin/tool'), path.join(img, 'usr/bin/tool2'))).not.toThrow();
  });
});
