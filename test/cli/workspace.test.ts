import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLabFolder, initWorkspace, resetLab, resolveWorkspace, solutionFile, starterLabDir } from '../../src/engine/workspace.ts';
import { fakeLab, tmpDir } from './fixtures.ts';

describe('workspaces', () => {
  it('are created from every lab starter with a README, .gitignore and package.json', async () => {
    const labs = [fakeLab('alpha'), fakeLab('beta')];
    const ws = path.join(tmpDir(), 'ws');
    const r = await initWorkspace(ws, labs);
    expect(r.created).toEqual(['alpha', 'beta']);
    expect(r.kept).toEqual([]);
    expect(r.files.sort()).toEqual(['.gitignore', 'README.md', 'package.json']);
    expect(readFileSync(solutionFile(ws, 'alpha'), 'utf8')).toContain('starter of alpha');
    expect(JSON.parse(readFileSync(path.join(ws, 'package.json'), 'utf8')).type).toBe('module');
    expect(readFileSync(path.join(ws, '.gitignore'), 'utf8')).toContain('.seclab/');
    expect(existsSync(path.join(ws, '.seclab'))).toBe(true);
    expect(readdirSync(ws).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuse to overwrite lab folders that hold work', async () => {
    const labs = [fakeLab('alpha'), fakeLab('beta')];
    const ws = tmpDir();
    await initWorkspace(ws, labs);
    writeFileSync(solutionFile(ws, 'alpha'), '// my precious work\n');
    writeFileSync(path.join(ws, 'README.md'), 'my notes');
    const r = await initWorkspace(ws, labs);
    expect(r.kept).toEqual(['alpha', 'beta']);
    expect(r.created).toEqual([]);
    expect(r.files).toEqual([]);
    expect(readFileSync(solutionFile(ws, 'alpha'), 'utf8')).toBe('// my precious work\n');
    expect(readFileSync(path.join(ws, 'README.md'), 'utf8')).toBe('my notes');
    // an empty lab folder is filled
    const gamma = fakeLab('gamma');
    mkdirSync(path.join(ws, 'gamma'));
    expect((await initWorkspace(ws, [...labs, gamma])).created).toEqual(['gamma']);
  });

  it('reset a lab to its starter, keeping the old folder as a backup', async () => {
    const lab = fakeLab('alpha');
    const ws = tmpDir();
    expect(await ensureLabFolder(ws, lab)).toBe(true);
    expect(await ensureLabFolder(ws, lab)).toBe(false);
    writeFileSync(solutionFile(ws, 'alpha'), '// edited');
    const r = await resetLab(ws, lab, new Date('2025-03-04T05:06:07Z'));
    expect(r.backup).toBe(path.join(ws, 'alpha.bak-20250304T050607Z'));
    expect(readFileSync(path.join(r.backup!, 'solution.ts'), 'utf8')).toBe('// edited');
    expect(readFileSync(solutionFile(ws, 'alpha'), 'utf8')).toContain('starter of alpha');
    const r2 = await resetLab(ws, lab, new Date('2025-03-04T05:06:07Z'));
    expect(r2.backup).toBe(`${r.backup}-1`);
  });

  it('find the starter folder of a lab in both layouts', () => {
    const nested = fakeLab('alpha');
    expect(starterLabDir(nested)).toBe(path.join(nested.starter, 'alpha'));
    const flat = { ...nested, id: 'other' };
    expect(starterLabDir(flat)).toBe(flat.starter);
  });

  it('are found: --workspace, $SECLAB_WORKSPACE, the current folder when it is one, else ./seclab-workspace', () => {
    const cwd = tmpDir();
    expect(resolveWorkspace('x', ['iam'], cwd, {})).toBe(path.join(cwd, 'x'));
    expect(resolveWorkspace(undefined, ['iam'], cwd, { SECLAB_WORKSPACE: '/somewhere' })).toBe('/somewhere');
    expect(resolveWorkspace(undefined, ['iam'], cwd, {})).toBe(path.join(cwd, 'seclab-workspace'));
    mkdirSync(path.join(cwd, 'iam'));
    writeFileSync(path.join(cwd, 'iam', 'solution.ts'), '');
    expect(resolveWorkspace(undefined, ['iam'], cwd, {})).toBe(cwd);
  });
});
