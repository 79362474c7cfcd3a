// Helpers for the SIEM tests: compile detections and rules from plain data or YAML, locate the shared datasets.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDetection } from '../../src/controls/siem/sigma/compile.ts';
import { ruleSetFromTexts, type RuleSet } from '../../src/controls/siem/sigma/ruleset.ts';
import { normalizeCloudTrail, type SiemEvent } from '../../src/controls/siem/events.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared/datasets beside the repository (the tests that need it skip when it is absent). */
export const DATASETS = resolve(REPO, '..', 'shared', 'datasets');
export const SIGMA_DATASET = join(DATASETS, 'sigma_aws_cloudtrail_rules', 'rules');
export const STRATUS_DATASET = join(DATASETS, 'cloudtrail', 'stratus');
export const hasDataset = (p: string) => existsSync(p);

/** Compiles a detection section (as plain data) and returns a predicate over records. */
export function detect(detection: Record<string, unknown>): (record: unknown) => boolean {
  const d = compileDetection(detection);
  return (record) => d.predicate({ record });
}

/** One selection with one field entry: `sel(key, value)(record)`. */
export function field(key: string, value: unknown): (record: unknown) => boolean {
  return detect({ selection: { [key]: value }, condition: 'selection' });
}

/** Rule set from YAML texts; fails the test on any rule error unless `allowErrors`. */
export function rules(texts: Record<string, string>, allowErrors = false): RuleSet {
  const rs = ruleSetFromTexts(Object.entries(texts).map(([name, text]) => ({ name, text })));
  if (!allowErrors && rs.errors.length) throw new Error(rs.errors.map((e) => e.message).join('\n'));
  return rs;
}

/** First error message of a single rule text. */
export function ruleError(text: string, name = 'rules/x.yml'): string {
  const rs = ruleSetFromTexts([{ name, text }]);
  if (!rs.errors.length) throw new Error('expected an error, the rule compiled');
  return rs.errors[0]!.message;
}

let seq = 0;
/** A CloudTrail event (normalised) with sensible defaults. */
export function ct(fields: Record<string, unknown>, time = '2026-01-01T00:00:00Z'): SiemEvent {
  return normalizeCloudTrail({
    eventVersion: '1.09',
    eventTime: time,
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userName: 'alice' },
    eventID: `e-${++seq}`,
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
    ...fields,
  });
}

/** ISO time `s` seconds after 2026-01-01T00:00:00Z. */
export const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();

/** Minimal CSV reader (quoted fields, embedded commas and quotes) for labels.csv. */
export function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') cell += text[++i];
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  const [head, ...body] = rows.filter((r) => r.some((x) => x.trim()));
  return body.map((r) => Object.fromEntries(head!.map((h, i) => [h.trim(), r[i] ?? ''])));
}
