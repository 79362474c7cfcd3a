// Lab dlp graded on a second correct solution (test/fixtures/dlp-alternative): other legitimate choices
// than the reference (quarantine by tagging in place, a permissions boundary on the analysts, an S3
// words list as the allow list, aws:SourceVpc + s3:authType on customer data, INCLUDE managed
// identifiers, a partner Deny outside deidentified/, a table-driven suite). The checks and attacks must
// not be fitted to the reference: full marks expected.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gradeLab } from '../../src/engine/grader.ts';
import { findLab } from '../../src/engine/labs.ts';
import type { LabGrade } from '../../src/engine/types.ts';
import { useLabCloud } from '../helpers/cloud.ts';

const { cloud } = useLabCloud();
const WORKSPACE = fileURLToPath(new URL('../fixtures/dlp-alternative/', import.meta.url));

/** Every failed check and attack with its feedback, for assertion messages. */
const detail = (g: LabGrade) => [...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => `${c.id} (${c.points}/${c.maxPoints}): ${c.feedback}`).join('\n');

describe('lab dlp, an alternative correct solution', () => {
  it('gets full marks: every check and attack passed, the business intact', async () => {
    const g = await gradeLab(cloud(), await findLab('dlp'), { workspace: WORKSPACE, seed: 'dlp-alternative' });
    expect(g.student.every((r) => r.ok), JSON.stringify(g.student)).toBe(true);
    expect(g.checks.filter((c) => c.kind === 'business').every((c) => c.passed), detail(g)).toBe(true);
    expect([...g.checks, ...g.scenarios].filter((c) => !c.passed).map((c) => c.id), detail(g)).toEqual([]);
    for (const s of g.scenarios) expect(s, s.feedback).toMatchObject({ blocked: true, businessIntact: true });
    expect(g.score, detail(g)).toBe(g.maxScore);
  }, 1_200_000);
});
