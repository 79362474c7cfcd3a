// Text formats CloudWatch uses in alarm reasons, history and notifications. CloudWatch is written in Java,
// and its JSON and messages print numbers as Java doubles (1.0, 0.0666851903306472, 1.0E7) and times as
// 2019-10-02T17:04:40.989+0000.

/** Java's Double.toString. */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    return s.includes('.') || s.includes('e') ? normalizeExponent(s) : `${s}.0`;
  }
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(exp)}`;
}

function normalizeExponent(s: string): string {
  // numbers between 1e-3 and 1e7 never print with an exponent in JS; kept for safety
  if (!s.includes('e')) return s;
  const [m, e] = s.split('e') as [string, string];
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

/** A number that serializes as a Java double in javaJson. */
export class JDouble {
  constructor(readonly value: number) {}
}
export const dbl = (x: number) => new JDouble(x);

/** JSON.stringify, except that JDouble values print as Java doubles and undefined members are left out. */
export function javaJson(value: unknown): string {
  if (value instanceof JDouble) return Number.isFinite(value.value) ? javaDouble(value.value) : 'null';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : javaJson(v))).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(isoMillis(value));
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(k)}:${javaJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** 2019-10-02T17:04:40.989+0000 */
export function isoMillis(d: Date): string {
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+0000`
  );
}

/** 2019-10-02T17:04:40Z (EventBridge's top-level "time"). */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** 02/10/19 17:04:00, the datapoint time in state reasons (dd/MM/yy HH:mm:ss, UTC). */
export function reasonDate(d: Date): string {
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Wednesday 02 October, 2019 17:04:40 UTC (alarm notification emails). */
export function emailDate(d: Date): string {
  return `${DAYS[d.getUTCDay()]} ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]}, ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
export const wasWere = (n: number) => (n === 1 ? 'was' : 'were');

/** arn:aws:cloudwatch:<region>:<account>:alarm:<name> */
export function parseAlarmArn(arn: string): { partition: string; region: string; account: string } {
  const parts = arn.split(':');
  return { partition: parts[1] ?? 'aws', region: parts[3] ?? '', account: parts[4] ?? '' };
}

export function alarmArn(region: string, account: string, name: string, partition = 'aws'): string {
  return `arn:${partition}:cloudwatch:${region}:${account}:alarm:${name}`;
}
