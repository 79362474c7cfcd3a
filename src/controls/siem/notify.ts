// Alert notifications: the text administrators receive (email and SMS through an SNS topic) and the one-line
// views of alerts and rules for terminals. Every view of an alert names the rule's author and, for rules under the
// Detection Rule License (SigmaHQ), the attribution and upstream URL, as the license asks of "messages based on
// matches".
import type { Alert } from './engine.ts';
import { tacticName } from './sigma/attack.ts';

/** One line naming the rule, its author and its license attribution. */
export function attributionLine(a: Pick<Alert, 'rule'>): string {
  const r = a.rule;
  const by = r.author ? `by ${r.author}` : 'author not stated';
  const lic = r.attribution ?? (r.license ? `license ${r.license}` : undefined);
  return `Rule "${r.title}" ${by}${lic ? ` — ${lic}` : ''}${r.url ? ` — ${r.url}` : ''}`;
}

export function attackLine(a: Pick<Alert, 'attack'>): string {
  const tactics = a.attack.tactics.map(tacticName);
  const parts = [tactics.join(', '), a.attack.techniques.join(', ')].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'no ATT&CK tags';
}

const SEV = { info: 'INFO', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' } as const;

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
export function alertSubject(a: Alert): string {
  const s = `[SIEM] ${SEV[a.severity]}: ${a.rule.title}`.replace(/[^\x20-\x7e]/g, '?');
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

function groupText(a: Alert): string {
  const entries = Object.entries(a.group).filter(([, v]) => v !== null && v !== undefined);
  return entries.length ? entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') : '-';
}

/**
 * The notification text: a first line that reads well as an SMS, then the details for email.
 */
export function alertMessage(a: Alert, opts: { siem?: string; maxEvents?: number } = {}): string {
  const n = opts.maxEvents ?? 5;
  const count = a.correlation ? ` (${a.correlation.type} ${a.correlation.value} in ${Math.round(a.correlation.timespanMs / 60_000)} min)` : '';
  const lines = [
    `${SEV[a.severity]} alert: ${a.rule.title}${count} — ${attackLine(a)} — rule by ${a.rule.author ?? 'unknown author'}`,
    '',
    `When:     ${a.firstSeen}${a.lastSeen !== a.firstSeen ? ` → ${a.lastSeen}` : ''} (${a.hits} hit${a.hits === 1 ? '' : 's'})`,
    `Who/what: ${groupText(a)}`,
    `ATT&CK:   ${attackLine(a)}`,
    `Rule:     ${a.rule.id} (${a.rule.kind}, level ${a.rule.level}) ${a.rule.source}`,
    `          ${attributionLine(a)}`,
  ];
  if (a.rule.description) lines.push('', a.rule.description.trim().replace(/\s+/g, ' '));
  lines.push('', `Events (${a.events.length + a.eventsOmitted}):`);
  for (const e of a.events.slice(0, n)) lines.push(`  ${e.time} ${e.summary}`);
  const more = a.events.length + a.eventsOmitted - Math.min(n, a.events.length);
  if (more > 0) lines.push(`  … and ${more} more`);
  lines.push('', `Alert ${a.id}${opts.siem ? ` — ${opts.siem}` : ''}`);
  return lines.join('\n');
}

/** One message summarising alerts beyond a channel's per-poll limit. */
export function summaryMessage(alerts: readonly Alert[]): { subject: string; message: string } {
  const lines = [`${alerts.length} more SIEM alerts in this poll (per-poll message limit reached):`, ''];
  for (const a of alerts.slice(0, 30)) lines.push(`${SEV[a.severity].padEnd(8)} ${a.firstSeen} ${a.rule.title} (rule by ${a.rule.author ?? 'unknown'}) ${attackLine(a)}`);
  if (alerts.length > 30) lines.push(`… and ${alerts.length - 30} more`);
  return { subject: `[SIEM] ${alerts.length} more alerts`, message: lines.join('\n') };
}

/** A one-line view for terminals. */
export function alertLine(a: Alert): string {
  return `${a.firstSeen}  ${SEV[a.severity].padEnd(8)} ${a.rule.title}  [${attackLine(a)}]  ${a.hits} hit${a.hits === 1 ? '' : 's'}  ${groupText(a)}  (rule by ${a.rule.author ?? 'unknown'})`;
}
