// Sigma detection conformance: the examples of the Sigma rules specification (v2.0.0) and modifiers appendix
// (v2.1.0), plus the behaviours the CloudTrail rules rely on (nested fields, arrays, null, numbers).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileParts, parseSigmaString } from '../../src/controls/siem/sigma/strings.ts';
import { detect, field } from './helpers.ts';

describe('strings: wildcards, escaping, case', () => {
  it('matches whole values case-insensitively by default', () => {
    const m = field('Image', 'C:\\Windows\\System32\\whoami.exe');
    expect(m({ Image: 'c:\\windows\\system32\\WHOAMI.EXE' })).toBe(true);
    expect(m({ Image: 'C:\\Windows\\System32\\whoami.exe.bak' })).toBe(false);
  });

  it('supports ? (one character) and * (any sequence), as in the specification examples', () => {
    const one = field('Image', 'prog?.exe');
    expect(one({ Image: 'progA.exe' })).toBe(true);
    expect(one({ Image: 'progB.exe' })).toBe(true);
    expect(one({ Image: 'prog.exe' })).toBe(false);
    expect(one({ Image: 'progAB.exe' })).toBe(false);
    const any = field('Image', 'antivirus_V*.exe');
    expect(any({ Image: 'antivirus_V1.exe' })).toBe(true);
    expect(any({ Image: 'antivirus_V21.2.1.exe' })).toBe(true);
    expect(any({ Image: 'antivirus_X1.exe' })).toBe(false);
  });

  it('escapes wildcards with backslashes as the specification describes', () => {
    expect(field('f', 'a\\*b')({ f: 'a*b' })).toBe(true); // \* is a literal star
    expect(field('f', 'a\\*b')({ f: 'aXb' })).toBe(false);
    expect(field('f', 'a\\?b')({ f: 'a?b' })).toBe(true);
    expect(field('f', 'a\\?b')({ f: 'aXb' })).toBe(false);
    expect(field('f', 'dir\\\\*')({ f: 'dir\\anything' })).toBe(true); // \\* : a backslash, then a wildcard
    expect(field('f', 'dir\\\\\\*')({ f: 'dir\\*' })).toBe(true); // \\\* : a backslash and a literal star
    expect(field('f', 'dir\\\\\\*')({ f: 'dir\\x' })).toBe(false);
    expect(field('f', 'a\\\\\\\\b')({ f: 'a\\\\b' })).toBe(true); // four backslashes: two plain ones
    expect(field('f', 'C:\\Windows')({ f: 'C:\\Windows' })).toBe(true); // a lone backslash is plain
  });

  it('wildcard matching agrees with a reference glob matcher (property)', () => {
    const ref = (pattern: string, s: string): boolean => {
      // Reference: expand the pattern into tokens, then match by recursion on lower-cased strings.
      const toks: Array<{ k: 'c'; c: string } | { k: '*' } | { k: '?' }> = [];
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '\\' && ['*', '?', '\\'].includes(pattern[i + 1] ?? '')) toks.push({ k: 'c', c: pattern[++i]! });
        else if (c === '*' || c === '?') toks.push({ k: c });
        else toks.push({ k: 'c', c });
      }
      const str = [...s.toLowerCase()];
      const go = (ti: number, si: number): boolean => {
        if (ti === toks.length) return si === str.length;
        const t = toks[ti]!;
        if (t.k === '*') return go(ti + 1, si) || (si < str.length && go(ti, si + 1));
        if (si >= str.length) return false;
        if (t.k === '?') return go(ti + 1, si + 1);
        return t.c.toLowerCase() === str[si] && go(ti + 1, si + 1);
      };
      return go(0, 0);
    };
    const chars = fc.constantFrom('a', 'B', 'c', '*', '?', '\\', '.', '-');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', 'C', '.', '*', '?', '\\', '-'), maxLength: 10 }), (p, s) => {
        expect(compileParts(parseSigmaString(p), false)(s)).toBe(ref(p, s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('selections: maps, lists, keywords', () => {
  it('ANDs the entries of a map and ORs the values of a list (EventLog and EventID example)', () => {
    const m = detect({ selection: { EventLog: 'Security', EventID: [517, 1102] }, condition: 'selection' });
    expect(m({ EventLog: 'Security', EventID: 517 })).toBe(true);
    expect(m({ EventLog: 'Security', EventID: '1102' })).toBe(true);
    expect(m({ EventLog: 'Security', EventID: 4624 })).toBe(false);
    expect(m({ EventLog: 'System', EventID: 517 })).toBe(false);
  });

  it('ORs the maps of a list of maps (Image|endswith or Description|contains example)', () => {
    const m = detect({
      selection: [{ 'Image|endswith': '\\example.exe' }, { 'Description|contains': 'Test executable' }],
      condition: 'selection',
    });
    expect(m({ Image: 'C:\\tmp\\example.exe' })).toBe(true);
    expect(m({ Description: 'A Test Executable here' })).toBe(true);
    expect(m({ Image: 'C:\\tmp\\other.exe', Description: 'x' })).toBe(false);
  });

  it('searches keywords (a list of strings) anywhere in the event', () => {
    const m = detect({ keywords: ['EVILSERVICE', 'svchost.exe -n evil'], condition: 'keywords' });
    expect(m({ message: 'service evilservice installed' })).toBe(true);
    expect(m({ nested: { cmd: 'C:\\svchost.exe -n evil' } })).toBe(true);
    expect(m({ message: 'all good' })).toBe(false);
  });

  it("ANDs keywords given under '|all'", () => {
    const m = detect({ keywords_cmdlet: { '|all': ['OabVirtualDirectory', ' -ExternalUrl '] }, condition: 'keywords_cmdlet' });
    expect(m({ cmd: 'Set-OabVirtualDirectory -ExternalUrl http://x' })).toBe(true);
    expect(m({ cmd: 'Set-OabVirtualDirectory' })).toBe(false);
  });
});

describe('special values: null, empty, exists', () => {
  it('null matches a missing or null field (PasswordLastSet example)', () => {
    const m = detect({ selection: { EventID: 4738 }, filter: { PasswordLastSet: null }, condition: 'selection and not filter' });
    expect(m({ EventID: 4738, PasswordLastSet: '2024-01-01' })).toBe(true);
    expect(m({ EventID: 4738 })).toBe(false);
    expect(m({ EventID: 4738, PasswordLastSet: null })).toBe(false);
  });

  it('empty string matches only the empty string', () => {
    const m = field('f', '');
    expect(m({ f: '' })).toBe(true);
    expect(m({})).toBe(false);
    expect(m({ f: 'x' })).toBe(false);
  });

  it('exists tests presence, null included', () => {
    expect(field('PasswordLastSet|exists', true)({ PasswordLastSet: null })).toBe(true);
    expect(field('PasswordLastSet|exists', true)({})).toBe(false);
    expect(field('PasswordLastSet|exists', false)({})).toBe(true);
    expect(field('a.b|exists', true)({ a: { b: 0 } })).toBe(true);
  });

  it('errorCode: null or "Success" means the call succeeded (SigmaHQ CloudTrail idiom)', () => {
    const m = detect({
      selection_event_name: { eventName: 'DeleteBucket' },
      selection_status_success: { errorCode: 'Success' },
      selection_status_null: { errorCode: null },
      condition: 'selection_event_name and 1 of selection_status_*',
    });
    expect(m({ eventName: 'DeleteBucket' })).toBe(true);
    expect(m({ eventName: 'DeleteBucket', errorCode: 'AccessDenied' })).toBe(false);
  });
});

describe('fields: nested names, arrays, types', () => {
  const rec = {
    eventName: 'RunInstances',
    readOnly: false,
    userIdentity: { type: 'AssumedRole', sessionContext: { sessionIssuer: { type: 'Role' } } },
    requestParameters: {
      instanceType: 'p3.2xlarge',
      instancesSet: { items: [{ imageId: 'ami-1' }, { imageId: 'ami-2' }] },
      tags: ['a', 'b'],
      enable: false,
    },
    'flat.key': 'x',
  };
  it('resolves dotted names in nested JSON', () => {
    expect(field('userIdentity.type', 'assumedrole')(rec)).toBe(true);
    expect(field('userIdentity.sessionContext.sessionIssuer.type', 'Role')(rec)).toBe(true);
    expect(field('userIdentity.missing.deeper', 'x')(rec)).toBe(false);
  });
  it('matches a field holding an array when any element matches, through arrays of objects too', () => {
    expect(field('requestParameters.tags', 'b')(rec)).toBe(true);
    expect(field('requestParameters.instancesSet.items.imageId', 'ami-2')(rec)).toBe(true);
    expect(field('requestParameters.instancesSet.items.imageId', 'ami-3')(rec)).toBe(false);
  });
  it('prefers a literal dotted key when the event has one', () => {
    expect(field('flat.key', 'x')(rec)).toBe(true);
  });
  it('compares numbers and booleans through their string form', () => {
    expect(field('readOnly', false)(rec)).toBe(true);
    expect(field('requestParameters.enable', 'false')(rec)).toBe(true);
    expect(field('n', 22)({ n: '22' })).toBe(true);
    expect(field('n', '22')({ n: 22 })).toBe(true);
  });
  it('matches an object-valued field through its JSON text and its leaves', () => {
    expect(field('requestParameters|contains', 'Suspended')({ requestParameters: { VersioningConfiguration: { Status: 'Suspended' } } })).toBe(true);
    const policy = { requestParameters: { policyDocument: '{"Effect":"Allow","Action":"s3:GetObject"}' } };
    expect(field('requestParameters|contains|all', ['"s3:GetObject"', '"Allow"'])(policy)).toBe(true);
  });
});

describe('modifiers', () => {
  it('contains / startswith / endswith', () => {
    expect(field('c|contains', 'whoami')({ c: 'cmd /c WHOAMI /all' })).toBe(true);
    expect(field('c|startswith', 'adm')({ c: 'Admin' })).toBe(true);
    expect(field('c|startswith', 'adm')({ c: 'sysadm' })).toBe(false);
    expect(field('c|endswith', '\\cmd.exe')({ c: 'C:\\Windows\\cmd.exe' })).toBe(true);
    expect(field('c|endswith', '\\cmd.exe')({ c: 'C:\\Windows\\cmd.exe.txt' })).toBe(false);
  });

  it('all: the values are ANDed', () => {
    const m = field('CommandLine|contains|all', ['-enc', 'bypass']);
    expect(m({ CommandLine: 'powershell -ep Bypass -enc AAAA' })).toBe(true);
    expect(m({ CommandLine: 'powershell -enc AAAA' })).toBe(false);
  });

  it('cased: case-sensitive matching', () => {
    expect(field('f|cased', 'Foo')({ f: 'Foo' })).toBe(true);
    expect(field('f|cased', 'Foo')({ f: 'foo' })).toBe(false);
    expect(field('f|contains|cased', 'Foo')({ f: 'xFoox' })).toBe(true);
    expect(field('f|contains|cased', 'Foo')({ f: 'xfoox' })).toBe(false);
  });

  it('re: case-sensitive search by default, with the i, m and s sub-modifiers', () => {
    expect(field('f|re', 'ab+c')({ f: 'xxabbbcxx' })).toBe(true);
    expect(field('f|re', 'ABC')({ f: 'abc' })).toBe(false);
    expect(field('f|re|i', 'ABC')({ f: 'abc' })).toBe(true);
    expect(field('f|re', '^two$')({ f: 'one\ntwo\nthree' })).toBe(false);
    expect(field('f|re|m', '^two$')({ f: 'one\ntwo\nthree' })).toBe(true);
    expect(field('f|re', 'one.two')({ f: 'one\ntwo' })).toBe(false);
    expect(field('f|re|s', 'one.two')({ f: 'one\ntwo' })).toBe(true);
    expect(field('userIdentity.arn|re', '.+:assumed-role/aws:.+')({ userIdentity: { arn: 'arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1' } })).toBe(true);
    expect(field('f|re', '(?i)abc')({ f: 'ABC' })).toBe(true); // leading inline flags are understood
  });

  it('cidr: IPv4 and IPv6 ranges (DestinationIp|cidr: 10.0.0.0/8 example)', () => {
    const m = field('DestinationIp|cidr', '10.0.0.0/8');
    expect(m({ DestinationIp: '10.1.2.3' })).toBe(true);
    expect(m({ DestinationIp: '11.0.0.1' })).toBe(false);
    expect(m({ DestinationIp: 'not an ip' })).toBe(false);
    const v6 = field('ip|cidr', ['2001:db8::/32', '192.168.0.0/16']);
    expect(v6({ ip: '2001:db8:1::5' })).toBe(true);
    expect(v6({ ip: '192.168.4.4' })).toBe(true);
    expect(v6({ ip: '2001:db9::1' })).toBe(false);
  });

  it('base64 and base64offset', () => {
    expect(field('f', 'Y21k')({ f: 'Y21k' })).toBe(true);
    expect(field('f|base64', 'cmd')({ f: 'Y21k' })).toBe(true);
    expect(field('f|base64|contains', 'cmd')({ f: 'xxY21kxx' })).toBe(true);
    const m = field('f|base64offset|contains', '/bin/bash');
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      expect(m({ f: Buffer.from(`${prefix}/bin/bash -c id`).toString('base64') })).toBe(true);
    }
    expect(m({ f: Buffer.from('/bin/sh -c id').toString('base64') })).toBe(false);
    // The three variants commonly listed for /bin/bash.
    expect(m({ f: 'L2Jpbi9iYXNo' })).toBe(true);
    expect(m({ f: '9iaW4vYmFza' })).toBe(true);
    expect(m({ f: 'vYmluL2Jhc2' })).toBe(true);
  });

  it('utf16le / wide before base64 (cmd → 63 00 6d 00 64 00)', () => {
    expect(field('f|utf16le|base64', 'cmd')({ f: 'YwBtAGQA' })).toBe(true);
    expect(field('f|wide|base64', 'cmd')({ f: 'YwBtAGQA' })).toBe(true);
    expect(field('f|utf16be|base64', 'cmd')({ f: 'AGMAbQBk' })).toBe(true);
    expect(field('f|utf16|base64', 'cmd')({ f: '//5jAG0AZAA=' })).toBe(true);
  });

  it('windash: - and / and the dash look-alikes are interchangeable', () => {
    const m = field('CommandLine|windash|contains', ' -exec ');
    for (const d of ['-', '/', '\u2013', '\u2014', '\u2015']) expect(m({ CommandLine: `x.exe ${d}exec y` })).toBe(true);
    expect(m({ CommandLine: 'x.exe +exec y' })).toBe(false);
  });

  it('gt / gte / lt / lte compare numbers (numeric strings too)', () => {
    expect(field('bytes|gt', 1000)({ bytes: 1001 })).toBe(true);
    expect(field('bytes|gt', 1000)({ bytes: 1000 })).toBe(false);
    expect(field('bytes|gte', 1000)({ bytes: '1000' })).toBe(true);
    expect(field('bytes|lt', 10)({ bytes: 9.5 })).toBe(true);
    expect(field('bytes|lte', 10)({ bytes: 'ten' })).toBe(false);
    expect(field('bytes|lte', 10)({})).toBe(false);
  });

  it('neq: the field exists and differs from every value', () => {
    const m = field('f|neq', ['a', 'b']);
    expect(m({ f: 'c' })).toBe(true);
    expect(m({ f: 'A' })).toBe(false);
    expect(m({})).toBe(false);
  });

  it('fieldref: compares with another field of the event (with contains/startswith/endswith)', () => {
    expect(field('a|fieldref', 'b')({ a: 'X', b: 'x' })).toBe(true);
    expect(field('a|fieldref', 'b')({ a: 'X', b: 'y' })).toBe(false);
    expect(field('a|fieldref', 'b')({ a: 'X' })).toBe(false);
    const self = field('userIdentity.arn|fieldref|endswith', 'requestParameters.userName');
    expect(self({ userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, requestParameters: { userName: 'alice' } })).toBe(true);
    expect(self({ userIdentity: { arn: 'arn:aws:iam::1:user/alice' }, requestParameters: { userName: 'bob' } })).toBe(false);
    expect(field('doc|fieldref|contains', 'acct')({ doc: '{"AWS":"arn:aws:iam::123456789012:root"}', acct: '123456789012' })).toBe(true);
    expect(field('a|fieldref|neq', 'b')({ a: 'x', b: 'y' })).toBe(true);
  });

  it('time modifiers extract a number from a date', () => {
    expect(field('eventTime|hour', 3)({ eventTime: '2024-05-01T03:15:00Z' })).toBe(true);
    expect(field('eventTime|hour|gte', 22)({ eventTime: '2024-05-01T23:15:00Z' })).toBe(true);
    expect(field('eventTime|month', 5)({ eventTime: '2024-05-01T03:15:00Z' })).toBe(true);
  });
});

describe('conditions', () => {
  const d = { a: { a: 1 }, b: { b: 1 }, c: { c: 1 } };
  const rec = (...keys: string[]) => Object.fromEntries(keys.map((k) => [k, 1]));
  it('binds and tighter than or', () => {
    const m = detect({ ...d, condition: 'a or b and c' });
    expect(m(rec('a'))).toBe(true);
    expect(m(rec('b'))).toBe(false);
    expect(m(rec('b', 'c'))).toBe(true);
  });
  it('binds not tighter than and', () => {
    const m = detect({ ...d, condition: 'not a and b' });
    expect(m(rec('b'))).toBe(true);
    expect(m(rec('a', 'b'))).toBe(false);
  });
  it('honours parentheses (selection1 and (keywords1 or keywords2))', () => {
    const m = detect({ ...d, condition: 'a and (b or c)' });
    expect(m(rec('a', 'c'))).toBe(true);
    expect(m(rec('a'))).toBe(false);
    expect(detect({ ...d, condition: 'not (a or b)' })(rec('c'))).toBe(true);
    expect(detect({ ...d, condition: 'not (a or b)' })(rec('b'))).toBe(false);
  });
  it('operators are case-insensitive', () => {
    expect(detect({ ...d, condition: 'a AND NOT b' })(rec('a'))).toBe(true);
  });
  it('1 of / all of a pattern', () => {
    const sel = { selection_x: { x: 1 }, selection_y: { y: 1 }, filter_z: { z: 1 } };
    expect(detect({ ...sel, condition: '1 of selection_*' })(rec('y'))).toBe(true);
    expect(detect({ ...sel, condition: 'all of selection_*' })(rec('y'))).toBe(false);
    expect(detect({ ...sel, condition: 'all of selection_*' })(rec('x', 'y'))).toBe(true);
    expect(detect({ ...sel, condition: '1 of selection_* and not 1 of filter*' })(rec('x', 'z'))).toBe(false);
    expect(detect({ ...sel, condition: '1 of selection_* and not 1 of filter*' })(rec('x'))).toBe(true);
  });
  it('1 of them / all of them skip identifiers that start with an underscore', () => {
    const sel = { s1: { x: 1 }, s2: { y: 1 }, _helper: { h: 1 } };
    expect(detect({ ...sel, condition: 'all of them' })(rec('x', 'y'))).toBe(true);
    expect(detect({ ...sel, condition: '1 of them' })(rec('h'))).toBe(false);
  });
  it('a list of conditions is ORed', () => {
    const m = detect({ ...d, condition: ['a and b', 'c'] });
    expect(m(rec('c'))).toBe(true);
    expect(m(rec('a'))).toBe(false);
  });
  it('a random condition tree evaluates like the boolean formula it denotes (property)', () => {
    type F = { t: 'v'; n: 'a' | 'b' | 'c' } | { t: 'not'; x: F } | { t: 'and' | 'or'; x: F; y: F };
    const f: fc.Arbitrary<F> = fc.letrec<{ f: F }>((tie) => ({
      f: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ t: fc.constant('v' as const), n: fc.constantFrom('a' as const, 'b' as const, 'c' as const) }),
        fc.record({ t: fc.constant('not' as const), x: tie('f') }),
        fc.record({ t: fc.constantFrom('and' as const, 'or' as const), x: tie('f'), y: tie('f') }),
      ),
    })).f;
    const text = (x: F): string => (x.t === 'v' ? x.n : x.t === 'not' ? `not (${text(x.x)})` : `(${text(x.x)} ${x.t} ${text(x.y)})`);
    const evalF = (x: F, env: Record<string, boolean>): boolean =>
      x.t === 'v' ? env[x.n]! : x.t === 'not' ? !evalF(x.x, env) : x.t === 'and' ? evalF(x.x, env) && evalF(x.y, env) : evalF(x.x, env) || evalF(x.y, env);
    fc.assert(
      fc.property(f, fc.record({ a: fc.boolean(), b: fc.boolean(), c: fc.boolean() }), (formula, env) => {
        const m = detect({ ...d, condition: text(formula) });
        const r = Object.fromEntries(Object.entries(env).filter(([, v]) => v).map(([k]) => [k, 1]));
        expect(m(r)).toBe(evalF(formula, env));
      }),
      { numRuns: 300 },
    );
  });
});
