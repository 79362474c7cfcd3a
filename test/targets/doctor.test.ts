import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { checkGo, checkNode, runDoctor } from '../../src/cloud/targets/doctor.ts';

describe('doctor', () => {
  it('returns every check, with a fix for each failure', async () => {
    const checks = await runDoctor();
    expect(checks.map((c) => c.name)).toEqual(['Node.js', 'Python', 'moto (lab cloud)', 'Docker engine', 'LocalStack support', 'Sandbox', 'Loopback port', 'Cache folder', 'Host image', 'nginx (host lab)', 'Go (ledger tests)']);
    for (const c of checks) {
      expect(typeof c.detail).toBe('string');
      expect(c.detail.length).toBeGreaterThan(0);
      if (!c.ok) expect(c.fix).toBeTruthy();
    }
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['Node.js']!.ok).toBe(true);
    expect(byName['Loopback port']!.ok).toBe(true);
    expect(byName['Docker engine']!.optional).toBe(true);
    expect(byName['Sandbox']!.optional).toBe(true);
    expect(byName['Go (ledger tests)']!.optional).toBe(true);
    if (process.platform === 'linux' && byName['Sandbox']!.ok) expect(byName['Sandbox']!.detail).toMatch(/bubblewrap/);
  });

  it('says whether Go is there and that the ledger does not need it', () => {
    const go = checkGo();
    expect(go.optional).toBe(true);
    const hasGo = spawnSync('go', ['version']).status === 0;
    expect(go.ok).toBe(hasGo);
    expect(go.detail).toMatch(hasGo ? /^Go \d+\.\d+/ : /no `go` on PATH/);
  });

  it('checks the Node version against 20.19', () => {
    expect(checkNode('20.19.0').ok).toBe(true);
    expect(checkNode('22.1.0').ok).toBe(true);
    expect(checkNode('20.18.3').ok).toBe(false);
    expect(checkNode('18.20.0').fix).toMatch(/Node\.js/);
  });
});
