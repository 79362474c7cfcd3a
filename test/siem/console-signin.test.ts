// Console sign-in events synthesized by the lab cloud (it has no console): AWS's record format, marked as
// emulated, served by LookupEvents, delivered by the trail, and caught by the bundled rules when MFA was not used.
import { describe, expect, it } from 'vitest';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { useLabCloud } from '../helpers/cloud.ts';
import { recordConsoleSignIn } from '../../src/cloud/services/cloudtrail/console-signin.ts';
import { loadBundledRules, normalizeCloudTrail, SiemEngine } from '../../src/controls/siem/index.ts';

const { cloud } = useLabCloud();

describe('console sign-in events', () => {
  it('are recorded in the CloudTrail format, marked as synthesized, and served by LookupEvents', async () => {
    const c = cloud();
    const root = c.createAccount();
    const rec = recordConsoleSignIn(c.gateway.service('cloudtrail'), { account: root.accountId, userName: 'dan', sourceIp: '185.220.101.4', mfaUsed: false });
    expect(rec).toMatchObject({
      eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', eventType: 'AwsConsoleSignIn', awsRegion: 'us-east-1',
      userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${root.accountId}:user/dan`, userName: 'dan' },
      responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'No', MobileVersion: 'No' },
      'seclab:emulated': expect.stringMatching(/synthesized/),
    });
    const ct = c.client(CloudTrailClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
    const found = await ct.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ConsoleLogin' }] }));
    expect(found.Events?.map((e) => JSON.parse(e.CloudTrailEvent!).sourceIPAddress)).toEqual(['185.220.101.4']);
  });

  it('without MFA raise the bundled rules; with MFA, or failed, not the MFA rule', () => {
    const store = { trail: new (class { records: unknown[] = []; add(r: unknown) { this.records.push(r); } newEventId() { return `id-${this.records.length}-${Math.random()}`; } })(), clock: { now: () => new Date('2026-01-01T10:00:00Z') } };
    const make = (o: { userName?: string; mfaUsed: boolean; success?: boolean }) =>
      normalizeCloudTrail(recordConsoleSignIn(store as never, { account: '111122223333', sourceIp: '203.0.113.10', ...o }) as never);
    const engine = new SiemEngine(loadBundledRules());
    const titles = (e: ReturnType<typeof make>) => engine.evaluate(e).map((m) => m.rule.title);
    expect(titles(make({ userName: 'dan', mfaUsed: false }))).toContain('Console Login Without MFA by an IAM User or Root');
    expect(titles(make({ userName: 'alice', mfaUsed: true }))).not.toContain('Console Login Without MFA by an IAM User or Root');
    expect(titles(make({ userName: 'dan', mfaUsed: false, success: false }))).not.toContain('Console Login Without MFA by an IAM User or Root');
    expect(titles(make({ mfaUsed: true }))).toContain('Root User Activity');
  });
});
