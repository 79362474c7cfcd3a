// The SIEM engine: alerts (severity, ATT&CK, events, attribution), deduplication, throttling, logsource matching,
// Sigma global filters, disabled rules, and the rule index (checked against plain evaluation of every rule).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SiemEngine, logsourceMatches } from '../../src/controls/siem/engine.ts';
import { normalizeFlowRecord, type SiemEvent } from '../../src/controls/siem/events.ts';
import { loadBundledRules } from '../../src/controls/siem/pack.ts';
import { ruleSetFromTexts } from '../../src/controls/siem/sigma/ruleset.ts';
import { at, ct, rules } from './helpers.ts';

const stopLogging = `title: Trail stopped
id: aaaaaaaa-0000-4000-8000-000000000001
author: Jane Doe
references: [https://example.com/rule]
logsource: {product: aws, service: cloudtrail}
detection:
    selection:
        eventSource: cloudtrail.amazonaws.com
        eventName: StopLogging
    condition: selection
level: high
tags:
    - attack.defense-evasion
    - attack.t1562.008
`;

describe('alerts', () => {
  it('carry the rule, severity, ATT&CK tags, attribution and the matching events', () => {
    const e = new SiemEngine(rules({ 'rules/stop.yml': stopLogging }));
    const event = ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' });
    const [a] = e.push(event);
    expect(a).toMatchObject({
      rule: { id: 'aaaaaaaa-0000-4000-8000-000000000001', title: 'Trail stopped', kind: 'detection', level: 'high', author: 'Jane Doe', references: ['https://example.com/rule'], source: 'rules/stop.yml' },
      severity: 'high',
      tags: ['attack.defense-evasion', 'attack.t1562.008'],
      attack: { tactics: ['defense-evasion'], techniques: ['T1562.008'] },
      group: { 'userIdentity.arn': 'arn:aws:iam::111122223333:user/alice', sourceIPAddress: '198.51.100.7' },
      hits: 1,
      firstSeen: '2026-01-01T00:00:00.000Z',
    });
    expect(a!.events).toEqual([event]);
    expect(a!.id).toMatch(/^[0-9a-f]{16}$/);
    expect(e.push(ct({ eventName: 'StartLogging', eventSource: 'cloudtrail.amazonaws.com' }))).toEqual([]);
  });

  it('maps every Sigma level to a severity', () => {
    for (const [level, severity] of [['informational', 'info'], ['low', 'low'], ['medium', 'medium'], ['high', 'high'], ['critical', 'critical']]) {
      const e = new SiemEngine(rules({ 'r.yml': stopLogging.replace('level: high', `level: ${level}`) }));
      expect(e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }))[0]?.severity).toBe(severity);
    }
  });

  it('deduplicates hits of the same rule and group within the window', () => {
    const e = new SiemEngine(rules({ 'r.yml': stopLogging }), { dedupWindowMs: 60_000 });
    const stop = (sec: number, user = 'alice') =>
      e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::1:user/${user}` } }, at(sec)));
    expect(stop(0)).toHaveLength(1);
    expect(stop(30)).toHaveLength(0); // merged
    expect(stop(31, 'bob')).toHaveLength(1); // another principal: another group
    expect(stop(61)).toHaveLength(1); // the window of the first alert is over
    expect(e.alerts.map((a) => a.hits)).toEqual([2, 1, 1]);
    expect(e.alerts[0]!.events).toHaveLength(2);
    expect(e.alerts[0]!.lastSeen).toBe(at(30));
    expect(e.stats).toMatchObject({ events: 4, alerts: 3, deduplicated: 1 });
  });

  it('throttles alerts per rule per window and counts what it dropped', () => {
    const e = new SiemEngine(rules({ 'r.yml': stopLogging }), { throttle: { maxAlerts: 2, windowMs: 3_600_000 } });
    for (let i = 0; i < 5; i++) {
      e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', userIdentity: { arn: `user${i}` } }, at(i)));
    }
    expect(e.alerts).toHaveLength(2);
    expect(e.stats.throttled).toBe(3);
    expect(e.alerts[1]!.suppressed).toBe(3);
    e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', userIdentity: { arn: 'later' } }, at(3700)));
    expect(e.alerts).toHaveLength(3);
  });

  it('keeps at most maxEventsPerAlert events and counts the rest', () => {
    const e = new SiemEngine(rules({ 'r.yml': stopLogging }), { maxEventsPerAlert: 2 });
    for (let i = 0; i < 4; i++) e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }, at(i)));
    expect(e.alerts[0]).toMatchObject({ hits: 4, eventsOmitted: 2 });
    expect(e.alerts[0]!.events).toHaveLength(2);
  });

  it('minLevel keeps lower rules from alerting', () => {
    const e = new SiemEngine(rules({ 'r.yml': stopLogging.replace('level: high', 'level: low') }), { minLevel: 'medium' });
    expect(e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }))).toEqual([]);
    expect(e.evaluate(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }))).toHaveLength(1);
  });

  it('onAlert sees new alerts and updates', () => {
    const seen: string[] = [];
    const e = new SiemEngine(rules({ 'r.yml': stopLogging }), { onAlert: (a, change) => seen.push(`${change}:${a.hits}`) });
    e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }));
    e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }));
    expect(seen).toEqual(['new:1', 'update:2']);
  });

  it('run() evaluates a batch in time order', () => {
    const base = `title: failed
name: failed
logsource: {product: aws, service: cloudtrail}
detection:
    s:
        errorCode: AccessDenied
    condition: s
`;
    const corr = `title: burst
correlation: {type: event_count, rules: [failed], group-by: [userIdentity.arn], timespan: 1m, condition: {gte: 3}}
`;
    const e = new SiemEngine(rules({ 'b.yml': base, 'c.yml': corr }));
    const evs = [at(100), at(0), at(30), at(60)].map((t) => ct({ errorCode: 'AccessDenied' }, t));
    const alerts = e.run(evs);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.events.map((x) => x.time)).toEqual([at(0), at(30), at(60)]);
  });
});

describe('logsource matching', () => {
  it('requires every attribute the rule sets, case-insensitively, with service aliases', () => {
    expect(logsourceMatches({ product: 'aws', service: 'cloudtrail' }, { product: 'aws', service: 'cloudtrail' })).toBe(true);
    expect(logsourceMatches({ product: 'AWS' }, { product: 'aws', service: 'cloudtrail' })).toBe(true);
    expect(logsourceMatches({ product: 'windows' }, { product: 'aws', service: 'cloudtrail' })).toBe(false);
    expect(logsourceMatches({ product: 'aws', service: 'cloudtrail' }, { product: 'aws', service: 'vpcflowlogs' })).toBe(false);
    expect(logsourceMatches({ product: 'aws', service: 'vpcflow' }, { product: 'aws', service: 'vpcflowlogs' })).toBe(true);
    expect(logsourceMatches({ category: 'process_creation' }, { product: 'aws', service: 'cloudtrail' })).toBe(false);
    expect(logsourceMatches({}, { product: 'aws', service: 'cloudtrail' })).toBe(true);
  });

  it('does not apply CloudTrail rules to flow logs', () => {
    const e = new SiemEngine(rules({ 'r.yml': stopLogging.replace('eventSource: cloudtrail.amazonaws.com\n', '') }));
    const flow = normalizeFlowRecord({ srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', eventName: 'StopLogging', start: 1 });
    expect(e.evaluate(flow)).toEqual([]);
  });
});

describe('tuning: Sigma global filters and disabled rules', () => {
  it('a filter document removes matches from the rules it names', () => {
    const filter = `title: ignore the automation role
logsource: {product: aws, service: cloudtrail}
filter:
    rules:
        - aaaaaaaa-0000-4000-8000-000000000001
    automation:
        userIdentity.arn|endswith: ':role/automation'
    condition: automation
`;
    const rs = rules({ 'r.yml': stopLogging, 'f.yml': filter });
    expect(rs.filters).toBe(1);
    const e = new SiemEngine(rs);
    expect(e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', userIdentity: { arn: 'arn:aws:iam::1:role/automation' } }))).toEqual([]);
    expect(e.push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }))).toHaveLength(1);
  });

  it('a filter naming an unknown rule is an error', () => {
    const rs = ruleSetFromTexts([{ name: 'f.yml', text: 'title: f\nlogsource: {product: aws}\nfilter:\n    rules: [nope]\n    s:\n        a: 1\n    condition: s\n' }]);
    expect(rs.errors[0]?.message).toBe('f.yml: filter.rules[0]: unknown detection rule "nope" (line 4)');
  });

  it('disabled rules do not alert', () => {
    const rs = ruleSetFromTexts([{ name: 'r.yml', text: stopLogging }], { disabled: new Map([['aaaaaaaa-0000-4000-8000-000000000001', 'noisy']]) });
    expect(rs.detections[0]?.disabled).toBe('noisy');
    expect(new SiemEngine(rs).push(ct({ eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging' }))).toEqual([]);
  });
});

describe('the rule index', () => {
  it('finds exactly the rules that plain evaluation of every rule finds (property, bundled pack)', () => {
    const pack = loadBundledRules();
    const engine = new SiemEngine(pack);
    const names = [...new Set(pack.detections.flatMap((r) => [...(r.requirement?.get('eventName') ?? [])]))];
    const sources = ['iam.amazonaws.com', 'ec2.amazonaws.com', 's3.amazonaws.com', 'cloudtrail.amazonaws.com', 'sts.amazonaws.com'];
    const eventArb = fc.record({
      eventName: fc.oneof(fc.constantFrom(...names), fc.constantFrom('ListUsers', 'GetObject', 'ConsoleLogin'), fc.string({ maxLength: 6 })),
      upper: fc.boolean(),
      eventSource: fc.constantFrom(...sources),
      errorCode: fc.option(fc.constantFrom('AccessDenied', 'Client.UnauthorizedOperation'), { nil: undefined }),
      type: fc.constantFrom('IAMUser', 'Root', 'AssumedRole', 'AWSService'),
    });
    fc.assert(
      fc.property(eventArb, (g) => {
        const ev: SiemEvent = ct({
          eventName: g.upper ? g.eventName.toUpperCase() : g.eventName,
          eventSource: g.eventSource,
          ...(g.errorCode ? { errorCode: g.errorCode } : {}),
          userIdentity: { type: g.type, arn: 'arn:aws:iam::1:user/x' },
        });
        const viaIndex = engine.evaluate(ev).map((m) => m.rule.id).sort();
        const active = pack.detections.filter((r) => r.standalone || r.parents.length);
        const naive = active.filter((r) => logsourceMatches(r.logsource, ev.logsource) && r.matches({ record: ev.fields })).map((r) => r.id).sort();
        expect(viaIndex).toEqual(naive);
      }),
      { numRuns: 500 },
    );
  });
});
