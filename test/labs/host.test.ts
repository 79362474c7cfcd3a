// Lab host end to end on the real lab cloud: the reference solution (its user data applied to a real
// Debian 12 root folder, its nginx run for real) gets full marks, the starter at most 10 %. Seeded
// defects: host-defects.test.ts.
import { cpSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findLab, SOLUTIONS_DIR } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';
import { detail, failed, grade, hostLabSkip, workspace } from './host-fixture.ts';

const { cloud } = useLabCloud();
const skip = await hostLabSkip();

describe.skipIf(!!skip)(`lab host${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let reference: LabGrade;
  beforeAll(async () => {
    reference = await grade(cloud(), SOLUTIONS_DIR);
  }, 600_000);

  it('gives the reference solution full marks: every attack blocked, the business intact', () => {
    expect(reference.student.every((r) => r.ok), JSON.stringify(reference.student)).toBe(true);
    expect(failed(reference), detail(reference)).toEqual([]);
    expect(reference.score).toBe(reference.maxScore);
    expect(reference.maxScore).toBe(100);
    expect(reference.scenarios.map((s) => s.id).sort()).toEqual([
      'http-login-interception', 'imds-ssrf', 'snapshot-shared-outside', 'ssh-password-brute-force', 'stolen-developer-key-volume', 'tls-downgrade',
    ]);
    for (const s of reference.scenarios) expect(s).toMatchObject({ blocked: true, businessIntact: true });
  });

  it('gives the starter at most 10%', async () => {
    const ws = workspace('seclab-host-starter-');
    cpSync((await findLab('host')).starter, ws, { recursive: true });
    const g = await grade(cloud(), ws);
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.score / g.maxScore).toBeLessThanOrEqual(0.1);
    expect(g.scenarios.every((s) => !s.blocked || s.points === 0)).toBe(true);
  }, 600_000);
});
