// The first-run install of moto into seclab's own virtual environment. It downloads moto from PyPI
// (about 20 s), so it runs only when asked: SECLAB_TEST_INSTALL=1 npx vitest run test/targets/install.test.ts
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installMotoVenv, MOTO_PIN, motoVenvDir, probePython, pythonOk } from '../../src/cloud/targets/python.ts';

describe.runIf(process.env.SECLAB_TEST_INSTALL === '1')('moto install into the venv', () => {
  it('creates the venv with the pinned moto, with a progress message', { timeout: 300_000 }, async () => {
    const base = await probePython(process.env.SECLAB_PYTHON ?? 'python3');
    expect(base && pythonOk(base)).toBeTruthy();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-cache-'));
    const saved = process.env.SECLAB_CACHE_DIR;
    process.env.SECLAB_CACHE_DIR = dir;
    try {
      const messages: string[] = [];
      const py = await installMotoVenv(base!, (m) => messages.push(m));
      expect(py.moto).toBe(MOTO_PIN);
      expect(py.executable.startsWith(motoVenvDir()) || py.executable.startsWith(dir)).toBe(true);
      expect(messages[0]).toMatch(/Installing the lab cloud \(moto 5\.2\.1\) into .* first run only, about 30 s/);
    } finally {
      if (saved === undefined) delete process.env.SECLAB_CACHE_DIR;
      else process.env.SECLAB_CACHE_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
