// The user-data parser (src/host/userdata/parse.ts): what cloud-init accepts — RunInstances' base64,
// gzip, #cloud-config (YAML 1.1, as PyYAML reads it), #! scripts, MIME multipart with both — and
// warnings, never silence, for what seclab does not interpret.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeUserData, parseUserData } from '../../src/host/userdata/parse.ts';

const mime = (parts: { type: string; body: string; b64?: boolean; name?: string }[]) => [
  'Content-Type: multipart/mixed; boundary="===============BOUNDARY=="', 'MIME-Version: 1.0', '',
  ...parts.flatMap((p) => [
    '--===============BOUNDARY==', `Content-Type: ${p.type}; charset="us-ascii"`, 'MIME-Version: 1.0',
    `Content-Transfer-Encoding: ${p.b64 ? 'base64' : '7bit'}`, `Content-Disposition: attachment; filename="${p.name ?? 'x'}"`, '',
    p.b64 ? Buffer.from(p.body).toString('base64') : p.body,
  ]),
  '--===============BOUNDARY==--', '',
].join('\n');

describe('user data parser', () => {
  it('reads a #cloud-config as cloud-init does (YAML 1.1: 0644 is octal, yes is true)', () => {
    const p = parseUserData('#cloud-config\nwrite_files:\n  - path: /etc/x\n    permissions: 0600\nssh_pwauth: no\n');
    expect(p.parts).toHaveLength(1);
    expect(p.parts[0]).toMatchObject({ kind: 'cloud-config', type: 'text/cloud-config' });
    expect(p.config.ssh_pwauth).toBe(false);
    expect((p.config.write_files as { permissions: number }[])[0]!.permissions).toBe(0o600);
    expect(p.warnings).toEqual([]);
  });

  it('decodes RunInstances\' base64 and gzip-compressed user data', () => {
    const text = '#!/bin/bash\necho hi\n';
    expect(decodeUserData(Buffer.from(text).toString('base64')).toString()).toBe(text);
    expect(decodeUserData(gzipSync(text)).toString()).toBe(text);
    expect(decodeUserData(gzipSync(text).toString('base64')).toString()).toBe(text);
    const p = parseUserData(Buffer.from(text).toString('base64'));
    expect(p.parts[0]).toMatchObject({ kind: 'shellscript', name: 'part-001' });
  });

  it('splits MIME multipart with a cloud-config and a shell script (base64 or not), keeping file names', () => {
    const p = parseUserData(mime([
      { type: 'text/cloud-config', body: '#cloud-config\ntimezone: UTC\n', name: 'cloud.cfg' },
      { type: 'text/x-shellscript', body: '#!/bin/sh\necho hardened\n', b64: true, name: 'harden.sh' },
    ]));
    expect(p.parts.map((x) => [x.kind, x.name])).toEqual([['cloud-config', 'cloud.cfg'], ['shellscript', 'harden.sh']]);
    expect(p.parts[1]!.content.toString()).toBe('#!/bin/sh\necho hardened\n');
    expect(p.config).toEqual({ timezone: 'UTC' });
    expect(p.warnings).toEqual([]);
  });

  it('merges several cloud-config parts (later keys replace earlier ones)', () => {
    const p = parseUserData(mime([
      { type: 'text/cloud-config', body: '#cloud-config\ntimezone: UTC\npackages: [a]\n' },
      { type: 'text/cloud-config', body: '#cloud-config\npackages: [b]\n' },
    ]));
    expect(p.config).toEqual({ timezone: 'UTC', packages: ['b'] });
  });

  it('warns about what it does not interpret: #include, part handlers, invalid YAML, a list as config, oversize', () => {
    expect(parseUserData('#include\nhttps://example.com/x\n').warnings[0]).toMatch(/not interpreted.*#include fetches URLs/s);
    expect(parseUserData(mime([{ type: 'text/part-handler', body: '#part-handler\n' }])).warnings[0]).toMatch(/text\/part-handler is not interpreted/);
    expect(parseUserData('#cloud-config\nusers: [\n').warnings[0]).toMatch(/not valid YAML.*ignores the whole part/);
    expect(parseUserData('#cloud-config\n- a\n').warnings[0]).toMatch(/must be a mapping/);
    expect(parseUserData('hello world\n').warnings[0]).toMatch(/not interpreted/);
    expect(parseUserData(`#!/bin/sh\n${'#'.repeat(17000)}\n`).warnings[0]).toMatch(/16 KB/);
    expect(parseUserData(mime([{ type: 'text/x-shellscript', body: 'echo no shebang\n' }])).warnings[0]).toMatch(/without a #! line/);
  });

  it('an empty user data has no parts', () => {
    expect(parseUserData('').parts).toEqual([]);
  });
});
