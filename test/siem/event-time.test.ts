// CloudTrail records without a valid eventTime: `@timestamp` is used when it is a time (and the scan says so once);
// otherwise the record is skipped and counted, and no event without a time reaches a correlation window.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SiemEngine } from '../../src/controls/siem/engine.ts';
import { cloudTrailTime, normalizeCloudTrail, normalizeLogEvent, parseLogData } from '../../src/controls/siem/events.ts';
import { loadBundledRules } from '../../src/controls/siem/pack.ts';
import { scanFiles } from '../../src/controls/siem/scan.ts';

const BURST = 'Burst of Access-Denied API Calls by One Identity';

/** A refused IAM call by one user: twelve of them in a minute make the bundled access-denied burst. */
function denied(i: number, time: Record<string, unknown>): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    ...time,
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.23',
    userAgent: 'aws-cli/2.15.0',
    errorCode: 'AccessDenied',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333' },
    eventID: `id-${i}`,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
  };
}
const at = (i: number) => `2026-01-01T00:00:${String(i * 4).padStart(2, '0')}Z`;
const tmp = () => mkdtempSync(join(tmpdir(), 'seclab-siem-time-'));

describe('CloudTrail event time', () => {
  it('eventTime must be ISO 8601; @timestamp (ISO or epoch ms) is the fallback; anything else is no time', () => {
    expect(cloudTrailTime({ eventTime: '2024-07-30T21:31:10Z' })).toEqual({ ts: Date.parse('2024-07-30T21:31:10Z'), time: '2024-07-30T21:31:10Z', from: 'eventTime' });
    expect(cloudTrailTime({ eventTime: '2024-07-30T21:31:10.123+02:00' })?.ts).toBe(Date.parse('2024-07-30T19:31:10.123Z'));
    // Date.parse takes these; they are not event times.
    expect(cloudTrailTime({ eventTime: 'Jul 30 2024' })).toBeUndefined();
    expect(cloudTrailTime({ eventTime: '2024' })).toBeUndefined();
    expect(cloudTrailTime({ eventTime: '2024-13-45T99:00:00Z' })).toBeUndefined();
    expect(cloudTrailTime({ eventTime: 1722375070000 })).toBeUndefined();
    expect(cloudTrailTime({ '@timestamp': '2024-07-30T21:31:10.000Z' })).toEqual({ ts: Date.parse('2024-07-30T21:31:10Z'), time: '2024-07-30T21:31:10.000Z', from: '@timestamp' });
    expect(cloudTrailTime({ '@timestamp': 1722375070000 })?.from).toBe('@timestamp');
    // eventTime wins when both are valid; an invalid eventTime falls back to @timestamp.
    expect(cloudTrailTime({ eventTime: '2024-07-30T21:31:10Z', '@timestamp': '2030-01-01T00:00:00Z' })?.time).toBe('2024-07-30T21:31:10Z');
    expect(cloudTrailTime({ eventTime: 'soon', '@timestamp': '2030-01-01T00:00:00Z' })?.from).toBe('@timestamp');
    expect(cloudTrailTime({ '@timestamp': 'yesterday' })).toBeUndefined();
    expect(cloudTrailTime({})).toBeUndefined();

    const e = normalizeCloudTrail(denied(0, { eventTime: 'not a time' }));
    expect(Number.isNaN(e.ts)).toBe(true);
    expect(e.time).toBe('');
    expect(normalizeCloudTrail(denied(0, { '@timestamp': at(1) })).timeFrom).toBe('@timestamp');
    expect(normalizeCloudTrail(denied(0, { eventTime: at(1) })).timeFrom).toBeUndefined();
  });

  it('parseLogData skips and counts records without a valid time, and counts the @timestamp fallbacks', () => {
    const lines = [denied(0, { eventTime: at(0) }), denied(1, { '@timestamp': at(1) }), denied(2, { eventTime: 'yesterday' }), denied(3, {})];
    const parsed = parseLogData(lines.map((l) => JSON.stringify(l)).join('\n'), 'x.jsonl');
    expect(parsed.kind).toBe('cloudtrail');
    expect(parsed.events.map((e) => e.fields['eventID'])).toEqual(['id-0', 'id-1']);
    expect(parsed.events.every((e) => Number.isFinite(e.ts))).toBe(true);
    expect(parsed).toMatchObject({ skipped: 2, untimed: 2, timestampFallback: 1 });
    // A file of untimed records only is still recognised as CloudTrail, with a note saying why nothing was read.
    const none = parseLogData(JSON.stringify({ Records: [denied(0, {})] }));
    expect(none).toMatchObject({ kind: 'cloudtrail', events: [], untimed: 1, note: expect.stringMatching(/eventTime/) });
    // CloudWatch Logs exports: a CloudTrail message without a time is skipped as well.
    const cw = parseLogData(JSON.stringify({ logGroup: 'trail', logStream: 's', logEvents: [{ timestamp: 1, message: JSON.stringify(denied(0, {})) }] }));
    expect(cw).toMatchObject({ events: [], untimed: 1 });
    expect(Number.isNaN(normalizeLogEvent({ timestamp: 1, message: JSON.stringify(denied(0, {})) }).ts)).toBe(true);
  });

  it('the engine keeps events without a time out of correlation windows (they counted at whatever time the stream was at)', () => {
    const rules = loadBundledRules();
    const timed = new SiemEngine(rules).run(Array.from({ length: 12 }, (_, i) => normalizeCloudTrail(denied(i, { eventTime: at(i) }))));
    expect(timed.map((a) => a.rule.title)).toContain(BURST);
    const engine = new SiemEngine(rules);
    const alerts = engine.run(Array.from({ length: 12 }, (_, i) => normalizeCloudTrail(denied(i, { eventTime: `minute ${i}` }))));
    expect(alerts.map((a) => a.rule.title)).not.toContain(BURST);
    expect(engine.stats.untimed).toBe(12);
    for (const a of alerts) expect(a.correlation).toBeUndefined();
  });

  it('scanFiles uses @timestamp (one note for the scan) and warns, per file, about records it skipped', async () => {
    const dir = tmp();
    // The burst is written with @timestamp only (as one public dataset exports CloudTrail): still detected, in time.
    writeFileSync(join(dir, 'a.jsonl'), Array.from({ length: 12 }, (_, i) => JSON.stringify(denied(i, { '@timestamp': at(i) }))).join('\n'));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ Records: [denied(20, { '@timestamp': at(13) }), denied(21, { eventTime: '01/01/2026' }), denied(22, {})] }));
    const r = await scanFiles([dir]);
    const burst = r.alerts.find((a) => a.rule.title === BURST);
    expect(burst?.firstSeen).toBe('2026-01-01T00:00:00.000Z');
    expect(r.events).toBe(13);
    expect(r.files.map((f) => [f.path.slice(dir.length + 1), f.events, f.skipped, f.untimed, f.timestampFallback])).toEqual([
      ['a.jsonl', 12, 0, undefined, 12],
      ['b.json', 1, 2, 2, 1],
    ]);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(/^13 CloudTrail records without eventTime in 2 files .*@timestamp was used as the event time/);
    expect(r.warnings).toEqual([expect.stringMatching(/b\.json: 2 CloudTrail records skipped: no valid event time/)]);
    expect(r.stats.untimed).toBe(0);
    // Nothing to say when every record has its eventTime.
    const clean = tmp();
    writeFileSync(join(clean, 'c.json'), JSON.stringify({ Records: [denied(0, { eventTime: at(0) })] }));
    expect(await scanFiles([clean])).toMatchObject({ notes: [], warnings: [] });
  });

  it('seclab siem scan prints the warning and the note in text, and carries them in JSON', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'trail.json'), JSON.stringify({ Records: [denied(0, { '@timestamp': at(0) }), denied(1, { eventTime: 'later' })] }));
    const bin = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const home = tmp();
        const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', HOME: home, SECLAB_CACHE_DIR: join(home, 'cache'), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const text = await run(['siem', 'scan', join(dir, 'trail.json')]);
    expect(text.code).toBe(0);
    const all = text.stdout + text.stderr;
    expect(all).toMatch(/trail\.json: 1 CloudTrail record skipped: no valid event time/);
    expect(all).toMatch(/note: 1 CloudTrail record without eventTime in 1 file .*@timestamp was used/);
    expect(text.stdout).toMatch(/0 alerts from 1 event in 1 file/);
    const json = await run(['siem', 'scan', join(dir, 'trail.json'), '--format', 'json']);
    const result = JSON.parse(json.stdout) as { warnings: string[]; notes: string[]; files: Array<{ untimed?: number }> };
    expect(result.warnings).toHaveLength(1);
    expect(result.notes).toHaveLength(1);
    expect(result.files[0]!.untimed).toBe(1);
  }, 60_000);
});
