// Invalid rules are refused with messages that name the file and the field (and the line when known).
import { describe, expect, it } from 'vitest';
import { rules, ruleError } from './helpers.ts';

const rule = (detection: string, extra = '') => `title: Test rule
id: 11111111-1111-4111-8111-111111111111
logsource:
    product: aws
    service: cloudtrail
detection:
${detection}
${extra}`;

describe('rule errors name the file and the field', () => {
  it('unknown modifier', () => {
    const msg = ruleError(rule('    selection:\n        eventName|foo: x\n    condition: selection'));
    expect(msg).toMatch(/^rules\/x\.yml: detection\.selection\.eventName\|foo: unknown modifier "foo" \(line 8\)$/);
  });

  it('modifier in the wrong case gets a hint', () => {
    expect(ruleError(rule('    selection:\n        eventName|Contains: x\n    condition: selection'))).toContain(
      'unknown modifier "Contains" (modifiers are lower case: "contains")',
    );
  });

  it('missing mandatory attributes', () => {
    expect(ruleError('logsource:\n    product: aws\ndetection:\n    s:\n        a: 1\n    condition: s\n')).toBe('rules/x.yml: title: missing (mandatory) (line 1)');
    expect(ruleError('title: t\ndetection:\n    s:\n        a: 1\n    condition: s\n')).toContain('rules/x.yml: logsource: missing (mandatory)');
    expect(ruleError(rule('    selection:\n        a: 1'))).toContain('rules/x.yml: detection.condition: missing condition');
  });

  it('wrong attribute types and values', () => {
    expect(ruleError(rule('    s:\n        a: 1\n    condition: s', 'level: severe'))).toMatch(/^rules\/x\.yml: level: .*"informational"/);
    expect(ruleError(rule('    s:\n        a: 1\n    condition: s', 'tags: attack.t1078'))).toMatch(/^rules\/x\.yml: tags: /);
  });

  it('condition problems', () => {
    expect(ruleError(rule('    selection:\n        a: 1\n    condition: selection and filter'))).toContain(
      'rules/x.yml: detection.condition: unknown search identifier "filter" (defined: selection)',
    );
    expect(ruleError(rule('    selection:\n        a: 1\n    condition: (selection'))).toContain('detection.condition: expected ")" at the end in "(selection"');
    expect(ruleError(rule('    selection:\n        a: 1\n    condition: selection | count() > 5'))).toContain(
      'aggregation expressions ("| count() ...") are not supported: write a correlation rule',
    );
    expect(ruleError(rule('    selection:\n        a: 1\n    condition: 1 of filter_*'))).toContain('"1 of filter_*" matches no search identifier');
    expect(ruleError(rule('    selection:\n        a: 1\n    condition: selection and'))).toContain('expected a search identifier at the end');
    expect(ruleError(rule('    selection:\n        a: 1\n    condition: 2 of selection'))).toContain('only "1 of" and "all of" are defined');
  });

  it('bad values for typed modifiers', () => {
    expect(ruleError(rule("    s:\n        f|re: '(unclosed'\n    condition: s"))).toMatch(/detection\.s\.f\|re: invalid regular expression/);
    expect(ruleError(rule("    s:\n        ip|cidr: '10.0.0.0/33'\n    condition: s"))).toContain('detection.s.ip|cidr: invalid CIDR "10.0.0.0/33"');
    expect(ruleError(rule("    s:\n        n|gt: many\n    condition: s"))).toContain('detection.s.n|gt: "gt" takes a number');
    expect(ruleError(rule("    s:\n        f|exists: 'yes'\n    condition: s"))).toContain('"exists" takes true or false');
    expect(ruleError(rule("    s:\n        f|i: x\n    condition: s"))).toContain('modifier "i" is a sub-modifier of "re"');
    expect(ruleError(rule("    s:\n        f|re|contains: x\n    condition: s"))).toContain('modifier "contains" cannot be combined with "re"');
    expect(ruleError(rule("    s:\n        f|contains|base64: x\n    condition: s"))).toContain('"base64" cannot encode a value with wildcards');
    expect(ruleError(rule("    s:\n        f|utf16le: x\n    condition: s"))).toContain('utf16 modifiers must be followed by "base64" or "base64offset"');
    expect(ruleError(rule("    s:\n        f|expand: '%admins%'\n    condition: s"))).toContain('placeholders');
    expect(ruleError(rule('    s:\n        f:\n            nested: map\n    condition: s'))).toContain('detection.s.f: expected a string, a number, a boolean or null');
    expect(ruleError(rule('    s:\n        - a: 1\n        - plain\n    condition: s'))).toContain('detection.s: a list must hold either maps');
    expect(ruleError(rule('    s: {}\n    condition: s'))).toContain('detection.s: empty selection');
  });

  it('YAML problems, warnings included, are errors with a line', () => {
    expect(ruleError('title: t\n  bad: indent\n')).toMatch(/^rules\/x\.yml: invalid YAML: .*\(line \d+\)$/);
    expect(ruleError('title: !unknown t\n')).toMatch(/^rules\/x\.yml: invalid YAML: /);
    expect(ruleError('title: a\ntitle: b\n')).toMatch(/^rules\/x\.yml: invalid YAML: .*[Mm]ap keys must be unique/);
    expect(ruleError('')).toBe('rules/x.yml: empty file: no Sigma document');
    expect(ruleError('just a string')).toContain('a Sigma document must be a map of attributes');
    expect(ruleError('title: t\nfoo: bar\n')).toContain('not a Sigma rule');
  });

  it('correlation problems', () => {
    const corr = (body: string) => `title: c\nid: 22222222-2222-4222-8222-222222222222\ncorrelation:\n${body}\n`;
    expect(ruleError(corr('    type: event_count\n    rules: [nope]\n    group-by: [a]\n    timespan: 5m\n    condition: {gte: 2}'))).toContain(
      'rules/x.yml: correlation.rules[0]: unknown rule "nope"',
    );
    const base = rule('    s:\n        a: 1\n    condition: s', 'name: base');
    const both = (body: string) => rules({ 'rules/base.yml': base, 'rules/corr.yml': corr(body) }, true).errors.map((e) => e.message);
    expect(both('    type: event_count\n    rules: [base]\n    timespan: 5 minutes\n    condition: {gte: 2}')).toContain(
      'rules/corr.yml: correlation.timespan: expected a number and a unit s, m, h or d (e.g. 5m), not "5 minutes" (line 6)',
    );
    expect(both('    type: event_count\n    rules: [base]\n    timespan: 5m').join()).toContain('correlation.condition: missing: event_count needs a condition');
    expect(both('    type: value_count\n    rules: [base]\n    timespan: 5m\n    condition: {gte: 2}').join()).toContain('correlation.condition.field: missing');
    expect(both('    type: sometimes\n    rules: [base]\n    timespan: 5m').join()).toMatch(/rules\/corr\.yml: correlation\.type: /);
    expect(both('    type: event_count\n    rules: [base]\n    timespan: 5m\n    condition: {gte: 2, over: 3}').join()).toMatch(/correlation\.condition/);
  });

  it('references between correlations: unknown rules and cycles', () => {
    const base = 'title: b\nname: base\nlogsource: {product: aws}\ndetection:\n    s:\n        a: 1\n    condition: s\n';
    const c = (name: string, refs: string) => `title: ${name}\nname: ${name}\ncorrelation: {type: event_count, rules: [${refs}], timespan: 1m, condition: {gte: 1}}\n`;
    const rs = rules({ 'b.yml': base, 'c1.yml': c('c1', 'c2, nope'), 'c2.yml': c('c2', 'base'), 'l1.yml': c('l1', 'l2'), 'l2.yml': c('l2', 'l1') }, true);
    expect(rs.errors.map((e) => e.message)).toEqual([
      'c1.yml: correlation.rules[1]: unknown rule "nope" (reference a rule by its id or name) (line 3)',
      'l1.yml: correlation.rules: circular reference between correlation rules (line 3)',
      'l2.yml: correlation.rules: circular reference between correlation rules (line 3)',
    ]);
    expect(rs.correlations.map((r) => r.title)).toEqual(['c2']);
  });

  it('duplicate ids and names', () => {
    const a = rule('    s:\n        a: 1\n    condition: s');
    const errs = rules({ 'rules/a.yml': a, 'rules/b.yml': a }, true).errors.map((e) => e.message);
    expect(errs).toEqual(['rules/b.yml: id: id "11111111-1111-4111-8111-111111111111" is already used by rules/a.yml (line 2)']);
  });

  it('a broken rule does not prevent the others from loading', () => {
    const rs = rules(
      {
        'rules/good.yml': rule('    s:\n        a: 1\n    condition: s'),
        'rules/bad.yml': rule('    s:\n        a|nope: 1\n    condition: s').replace('1111-4111', '3333-4333'),
      },
      true,
    );
    expect(rs.detections.map((r) => r.source)).toEqual(['rules/good.yml']);
    expect(rs.errors).toHaveLength(1);
  });

  it('multi-document files name the document', () => {
    const text = `${rule('    s:\n        a: 1\n    condition: s')}---\ntitle: second\nlogsource: {product: aws}\ndetection:\n    s:\n        a|bad: 1\n    condition: s\n`;
    expect(rules({ 'rules/m.yml': text }, true).errors[0]!.message).toMatch(/^rules\/m\.yml#2: detection\.s\.a\|bad: unknown modifier "bad"/);
  });
});
