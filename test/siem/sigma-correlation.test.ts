// Sigma correlation rules (correlation specification v2): event_count, value_count, temporal, temporal_ordered,
// group-by, aliases, chaining, sliding windows. Examples adapted from the specification.
import { describe, expect, it } from 'vitest';
import { SiemEngine } from '../../src/controls/siem/engine.ts';
import type { SiemEvent } from '../../src/controls/siem/events.ts';
import { rules } from './helpers.ts';

/** A generic (non-AWS) event for the specification's Windows examples. */
function ev(sec: number, fields: Record<string, unknown>): SiemEvent {
  const ts = Date.UTC(2026, 0, 1) + sec * 1000;
  return { time: new Date(ts).toISOString(), ts, source: 'logs', logsource: { product: 'windows', service: 'security' }, fields, summary: '' };
}

const failedLogin = `title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
`;
const successfulLogin = `title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
`;

function engine(texts: Record<string, string>) {
  return new SiemEngine(rules(texts));
}

describe('event_count', () => {
  const corr = `title: Many failed logins
id: 0e95725d-7320-415d-80f7-004da920fc11
correlation:
    type: event_count
    rules:
        - 53ba33fd-3a50-4468-a5ef-c583635cfa92
    group-by:
        - ComputerName
    timespan: 1m
    condition:
        gte: 3
level: high
tags:
    - attack.credential-access
    - attack.t1110
`;
  it('fires when the count is reached within a sliding window, per group', () => {
    const e = engine({ 'failed.yml': failedLogin, 'corr.yml': corr });
    const fire = (sec: number, host: string) => e.push(ev(sec, { EventID: 4625, ComputerName: host }));
    expect(fire(0, 'a')).toEqual([]);
    expect(fire(30, 'a')).toEqual([]);
    expect(fire(31, 'b')).toEqual([]); // another group
    expect(fire(70, 'a')).toEqual([]); // the event at 0 left the window (70 - 60 = 10)
    const alerts = fire(80, 'a'); // 30, 70, 80
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a!.rule.title).toBe('Many failed logins');
    expect(a!.severity).toBe('high');
    expect(a!.group).toEqual({ ComputerName: 'a' });
    expect(a!.correlation).toMatchObject({ type: 'event_count', value: 3, groupBy: ['ComputerName'] });
    expect(a!.events.map((x) => x.ts - Date.UTC(2026, 0, 1))).toEqual([30_000, 70_000, 80_000]);
    expect(a!.attack).toEqual({ tactics: ['credential-access'], techniques: ['T1110'] });
    // The referenced rule is not generated on its own (generate defaults to false).
    expect(e.alerts.map((x) => x.rule.title)).toEqual(['Many failed logins']);
  });

  it('counts exactly at the window edge (an event timespan old is still inside)', () => {
    const e = engine({ 'failed.yml': failedLogin, 'corr.yml': corr });
    e.push(ev(0, { EventID: 4625, ComputerName: 'a' }));
    e.push(ev(30, { EventID: 4625, ComputerName: 'a' }));
    expect(e.push(ev(60, { EventID: 4625, ComputerName: 'a' }))).toHaveLength(1);
  });

  it('generate: true also raises the referenced rule on its own', () => {
    const e = engine({ 'failed.yml': failedLogin, 'corr.yml': `${corr}generate: true\n` });
    e.push(ev(0, { EventID: 4625, ComputerName: 'a' }));
    expect(e.alerts.map((x) => x.rule.title)).toEqual(['Single failed login']);
  });

  it('without group-by, all events form one group', () => {
    const e = engine({ 'failed.yml': failedLogin, 'corr.yml': corr.replace('    group-by:\n        - ComputerName\n', '') });
    e.push(ev(0, { EventID: 4625, ComputerName: 'a' }));
    e.push(ev(1, { EventID: 4625, ComputerName: 'b' }));
    expect(e.push(ev(2, { EventID: 4625, ComputerName: 'c' }))).toHaveLength(1);
  });

  it('conditions with an upper bound are decided when the window closes', () => {
    const few = corr.replace('gte: 3', 'lt: 3').replace('Many failed logins', 'Few failed logins');
    const e = engine({ 'failed.yml': failedLogin, 'corr.yml': few });
    e.push(ev(0, { EventID: 4625, ComputerName: 'a' }));
    e.push(ev(10, { EventID: 4625, ComputerName: 'a' }));
    for (let i = 0; i < 3; i++) e.push(ev(20 + i, { EventID: 4625, ComputerName: 'b' }));
    expect(e.alerts).toHaveLength(0);
    const closed = e.push(ev(200, { EventID: 1, ComputerName: 'z' })); // time passes: windows of a and b close
    expect(closed.map((a) => a.group)).toEqual([{ ComputerName: 'a' }]);
    expect(closed[0]!.correlation?.value).toBe(2);
    e.push(ev(300, { EventID: 4625, ComputerName: 'c' }));
    expect(e.flush().map((a) => a.group)).toEqual([{ ComputerName: 'c' }]);
  });
});

describe('value_count', () => {
  it('counts distinct values of the field per group (failed logons for many users per source and destination)', () => {
    const corr = `title: Failed login
id: 0e95725d-7320-415d-80f7-004da920fc12
correlation:
    type: value_count
    rules:
        - failed_login
    group-by:
        - ComputerName
        - WorkstationName
    timespan: 1d
    condition:
        field: User
        gte: 3
`;
    const e = engine({ 'failed.yml': failedLogin, 'corr.yml': corr });
    const push = (sec: number, user: string, ws = 'w1') => e.push(ev(sec, { EventID: 4625, ComputerName: 'dc', WorkstationName: ws, User: user }));
    push(0, 'alice');
    push(1, 'alice');
    push(2, 'bob');
    expect(push(3, 'carol', 'w2')).toEqual([]); // another group
    const [a] = push(4, 'Bob'); // values are compared as they are: Bob is a third value
    expect(a?.correlation?.value).toBe(3);
    expect(a?.group).toEqual({ ComputerName: 'dc', WorkstationName: 'w1' });
    expect(a?.events).toHaveLength(4);
  });

  it('counts each element of an array-valued field', () => {
    const base = `title: Send command
name: send
logsource: {product: aws, service: cloudtrail}
detection:
    s:
        eventName: SendCommand
    condition: s
`;
    const corr = `title: Many instances
correlation:
    type: value_count
    rules: [send]
    group-by: [userIdentity.arn]
    timespan: 10m
    condition: {field: requestParameters.instanceIds, gte: 3}
`;
    const e = engine({ 'b.yml': base, 'c.yml': corr });
    const mk = (ids: string[]): SiemEvent => ({
      time: '2026-01-01T00:00:00Z',
      ts: Date.UTC(2026, 0, 1),
      source: 'cloudtrail',
      logsource: { product: 'aws', service: 'cloudtrail' },
      fields: { eventName: 'SendCommand', userIdentity: { arn: 'u' }, requestParameters: { instanceIds: ids } },
      summary: '',
    });
    expect(e.push(mk(['i-1', 'i-2', 'i-3']))).toHaveLength(1);
  });
});

describe('temporal and temporal_ordered', () => {
  const recon = (n: string, cmd: string) => `title: Recon ${n}
name: recon_cmd_${n}
logsource:
    product: windows
    service: security
detection:
    selection:
        CommandLine|contains: ${cmd}
    condition: selection
`;
  const corr = (type: string, condition = '') => `title: Recon burst
correlation:
    type: ${type}
    rules:
        - recon_cmd_a
        - recon_cmd_b
        - recon_cmd_c
    group-by:
        - ComputerName
        - User
    timespan: 5m
${condition}`;
  const texts = (type: string, condition?: string) => ({
    'a.yml': recon('a', 'whoami'),
    'b.yml': recon('b', 'ipconfig'),
    'c.yml': recon('c', 'net user'),
    'corr.yml': corr(type, condition),
  });
  const cmd = (sec: number, c: string, user = 'bob') => ev(sec, { CommandLine: c, ComputerName: 'pc1', User: user });

  it('temporal: all rules match in any order within the timespan, for the same group', () => {
    const e = engine(texts('temporal'));
    e.push(cmd(0, 'net user'));
    e.push(cmd(10, 'whoami /all'));
    e.push(cmd(20, 'ipconfig', 'eve')); // another user
    expect(e.alerts).toHaveLength(0);
    const [a] = e.push(cmd(30, 'ipconfig /all'));
    expect(a?.rule.title).toBe('Recon burst');
    expect(a?.events).toHaveLength(3);
  });

  it('temporal: does not fire when one rule is outside the timespan', () => {
    const e = engine(texts('temporal'));
    e.push(cmd(0, 'net user'));
    e.push(cmd(200, 'whoami'));
    expect(e.push(cmd(400, 'ipconfig'))).toHaveLength(0);
  });

  it('temporal with a condition expression over the rule names', () => {
    const e = engine(texts('temporal', '    condition: recon_cmd_a and (recon_cmd_b or recon_cmd_c)\n'));
    e.push(cmd(0, 'whoami'));
    expect(e.push(cmd(1, 'net user'))).toHaveLength(1);
  });

  it('temporal_ordered: the rules must match in the order listed', () => {
    const e = engine(texts('temporal_ordered'));
    e.push(cmd(0, 'ipconfig'));
    e.push(cmd(1, 'whoami'));
    expect(e.push(cmd(2, 'net user'))).toHaveLength(0); // b came before a
    expect(e.push(cmd(3, 'ipconfig'))).toHaveLength(0); // a(1), b(3) ...
    expect(e.push(cmd(4, 'net user'))).toHaveLength(1); // ... c(4)
  });
});

describe('chained correlations and aliases', () => {
  it('multiple failed logins followed by a successful login (the specification example)', () => {
    const outer = `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
author: Florian Roth (Nextron Systems)
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
`;
    const e = engine({ 'failed.yml': failedLogin, 'ok.yml': successfulLogin, 'corr.yml': outer });
    const login = (sec: number, id: number, user = 'bob') => e.push(ev(sec, { EventID: id, User: user }));
    login(0, 4624); // a success first does not count
    for (let i = 1; i <= 10; i++) login(i, 4625);
    expect(e.alerts).toHaveLength(0); // the intermediate correlation is not an alert of its own
    for (let i = 1; i <= 10; i++) login(i, 4625, 'eve'); // eve never succeeds
    const [a] = login(30, 4624);
    expect(a?.rule.title).toBe('Correlation - Multiple Failed Logins Followed by Successful Login');
    expect(a?.group).toEqual({ User: 'bob' });
    expect(a?.events).toHaveLength(11); // ten failures and the success
    expect(e.alerts).toHaveLength(1);
  });

  it('aliases map a group-by name to different fields in different rules', () => {
    const internalError = `title: internal error
name: internal_error
logsource: {product: web}
detection:
    selection:
        http.response.status_code: 500
    condition: selection
`;
    const conn = `title: new connection
name: new_network_connection
logsource: {product: web}
detection:
    selection:
        event.category: network
        event.type: connection
        event.outcome: success
    condition: selection
`;
    const corr = `title: Error then connection
correlation:
    type: temporal
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
        - remote_ip
    timespan: 10s
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
        remote_ip:
            internal_error: source.ip
            new_network_connection: destination.ip
`;
    const e = engine({ 'a.yml': internalError, 'b.yml': conn, 'c.yml': corr });
    const web = (sec: number, fields: Record<string, unknown>): SiemEvent => ({ ...ev(sec, fields), logsource: { product: 'web', service: 'x' } });
    e.push(web(0, { http: { response: { status_code: 500 } }, source: { ip: '203.0.113.9' }, destination: { ip: '10.0.0.5' } }));
    e.push(web(1, { event: { category: 'network', type: 'connection', outcome: 'success' }, source: { ip: '10.0.0.6' }, destination: { ip: '203.0.113.9' } }));
    expect(e.alerts).toHaveLength(0); // different internal address
    const [a] = e.push(web(2, { event: { category: 'network', type: 'connection', outcome: 'success' }, source: { ip: '10.0.0.5' }, destination: { ip: '203.0.113.9' } }));
    expect(a?.group).toEqual({ internal_ip: '10.0.0.5', remote_ip: '203.0.113.9' });
  });
});
