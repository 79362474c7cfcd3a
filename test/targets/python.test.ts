import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheDir, motoVenvDir, venvPython, versionAtLeast } from '../../src/cloud/targets/python.ts';

const saved = { SECLAB_CACHE_DIR: process.env.SECLAB_CACHE_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('python helpers', () => {
  it('compare versions numerically', () => {
    expect(versionAtLeast('5.2.1', [5, 2])).toBe(true);
    expect(versionAtLeast('5.10.0', [5, 2])).toBe(true);
    expect(versionAtLeast('6.0.0', [5, 2])).toBe(true);
    expect(versionAtLeast('5.1.22', [5, 2])).toBe(false);
    expect(versionAtLeast('4.2.14', [5, 2])).toBe(false);
    expect(versionAtLeast('5.2.1.dev3', [5, 2, 1])).toBe(true);
  });

  it('put the venv in the cache dir, honouring SECLAB_CACHE_DIR then XDG_CACHE_HOME', () => {
    delete process.env.SECLAB_CACHE_DIR;
    delete process.env.XDG_CACHE_HOME;
    expect(cacheDir()).toBe(path.join(os.homedir(), '.cache', 'seclab'));
    process.env.XDG_CACHE_HOME = '/tmp/xdg';
    expect(motoVenvDir()).toBe('/tmp/xdg/seclab/moto-venv');
    process.env.SECLAB_CACHE_DIR = '/tmp/sc';
    expect(motoVenvDir()).toBe('/tmp/sc/moto-venv');
    expect(venvPython('/v')).toBe(process.platform === 'win32' ? path.join('/v', 'Scripts', 'python.exe') : '/v/bin/python');
  });
});
