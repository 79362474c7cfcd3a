// Lab advanced-ledger's attacks: the pure parts of their judgement and forgery (no lab cloud). An attack
// is credited only for a discrepancy of its kind, at its position, with evidence, that the audit did not
// already report before the attack; the attacker's paths and forgeries follow c2sp tlog-tiles.
import { describe, expect, it } from 'vitest';
import { bundleOf, blame, matching, objectKey, type Expectation } from '../../scenarios/lib/ledger.ts';
import { coverageEnd } from '../../scenarios/advanced-ledger-truncate.ts';
import { decodeEntry, encodeEntry, type LedgerEntry } from '../../src/controls/ledger/entry.ts';
import type { AuditReport, Discrepancy } from '../../src/controls/ledger/audit.ts';

const report = (discrepancies: Discrepancy[]): AuditReport => ({ ok: !discrepancies.length, origin: 'o', size: 10, witnessedSize: 10, entries: 10, discrepancies });
const d = (kind: Discrepancy['kind'], index: number | undefined, detail = `${kind} ${index}`, evidence = ['x']): Discrepancy => ({ kind, ...(index !== undefined ? { index } : {}), detail, evidence });

describe('advanced-ledger attacks: judgement', () => {
  const exp: Expectation = { kinds: ['edited-entry'], at: (x) => x.index === 7, what: 'entry 7', needs: 'signing' };

  it('credits a new discrepancy of the expected kind at the attacked position', () => {
    expect(matching(report([d('edited-entry', 7)]), report([]), exp)).toHaveLength(1);
  });

  it('does not credit the wrong kind, the wrong position, a discrepancy without evidence, or one already there before the attack', () => {
    expect(matching(report([d('tile-mismatch', 7)]), report([]), exp)).toEqual([]);
    expect(matching(report([d('edited-entry', 8)]), report([]), exp)).toEqual([]);
    expect(matching(report([d('edited-entry', 7, 'e', [])]), report([]), exp)).toEqual([]);
    expect(matching(report([d('edited-entry', 7)]), report([d('edited-entry', 7)]), exp)).toEqual([]);
    // Kind and position decide, not the detail text: the same kind at the attacked position before the attack is not new.
    expect(matching(report([d('edited-entry', 7, 'now')]), report([d('edited-entry', 7, 'before')]), exp)).toEqual([]);
  });

  it('never credits a kind the baseline reported in the attacked range, even when its position moved with the size', () => {
    const cut: Expectation = { kinds: ['truncated', 'stale-checkpoint'], at: (x) => x.index === undefined || (x.index >= 280 && x.index <= 300), what: 'cut', needs: 'witness' };
    // A junk anchor of a huge size: truncated at the current size before (300) and after (280) the attack.
    expect(matching(report([d('truncated', 280, 'size 1000000 > 280')]), report([d('truncated', 300, 'size 1000000 > 300')]), cut)).toEqual([]);
    // The other kind of the expectation, not reported before, is still credited.
    expect(matching(report([d('truncated', 280), d('stale-checkpoint', 280)]), report([d('truncated', 300)]), cut).map((x) => x.kind)).toEqual(['stale-checkpoint']);
  });

  it('a baseline finding of another kind or outside the attacked range does not make the attack uncreditable', () => {
    // The junk anchor's permanent truncated finding does not hide a later edit.
    expect(matching(report([d('truncated', 300), d('edited-entry', 7)]), report([d('truncated', 300)]), exp)).toHaveLength(1);
    // An edited entry elsewhere before the attack does not hide the edit of entry 7.
    expect(matching(report([d('edited-entry', 3), d('edited-entry', 7)]), report([d('edited-entry', 3)]), exp).map((x) => x.index)).toEqual([7]);
  });
});

describe('advanced-ledger attacks: where entries live (c2sp tlog-tiles)', () => {
  it('names the bundle and level-0 tile holding an entry at a log size', () => {
    expect(bundleOf(5, 10)).toEqual({ n: 0, width: 10, start: 0, path: 'tile/entries/000.p/10', tile0: 'tile/0/000.p/10' });
    expect(bundleOf(255, 300)).toEqual({ n: 0, width: 256, start: 0, path: 'tile/entries/000', tile0: 'tile/0/000' });
    expect(bundleOf(256, 300)).toEqual({ n: 1, width: 44, start: 256, path: 'tile/entries/001.p/44', tile0: 'tile/0/001.p/44' });
    // 1234067 = 4820 · 256 + 147: bundle 4820 (x004/820), 148 entries wide at size 1234068.
    expect(bundleOf(1234067, 1234068).path).toBe('tile/entries/x004/820.p/148');
  });

  it('knows how far each tile path reaches (what a truncation deletes)', () => {
    expect(coverageEnd('tile/entries/000.p/10')).toBe(10);
    expect(coverageEnd('tile/0/001')).toBe(512);
    expect(coverageEnd('tile/1/000.p/2')).toBe(2 * 256);
    expect(coverageEnd('tile/2/000.p/1')).toBe(256 ** 2);
    expect(coverageEnd('checkpoint')).toBeUndefined();
  });

  it('puts a path under the ledger prefix as S3Store does', () => {
    expect(objectKey('', 'checkpoint')).toBe('checkpoint');
    expect(objectKey('ledger/', 'tile/0/000')).toBe('ledger/tile/0/000');
    expect(objectKey('ledger', 'tile/0/000')).toBe('ledger/tile/0/000');
  });
});

describe('advanced-ledger attacks: the forged entry', () => {
  it('names the scapegoat everywhere the event named ops-admin, and stays a valid canonical entry', () => {
    const e: LedgerEntry = {
      v: 1, kind: 'cloudtrail', time: '2026-12-08T03:00:00Z',
      source: { type: 'cloudtrail', eventID: 'abc', eventSource: 's3.amazonaws.com', eventName: 'GetObject' },
      event: { eventID: 'abc', eventName: 'GetObject', userIdentity: { type: 'IAMUser', userName: 'ops-admin', arn: 'arn:aws:iam::123456789012:user/ops-admin', accessKeyId: 'AKIAX' }, requestParameters: { bucketName: 'b', key: 'customers/NW-1.json' } },
    };
    const forged = decodeEntry(blame(encodeEntry(e), 'ops-admin', 'northwind-app', '123456789012'));
    expect(forged.source).toEqual(e.source);
    const ui = forged.event['userIdentity'] as Record<string, string>;
    expect(ui['userName']).toBe('northwind-app');
    expect(ui['arn']).toBe('arn:aws:iam::123456789012:user/northwind-app');
    expect(JSON.stringify(forged)).not.toContain('ops-admin');
  });
});
