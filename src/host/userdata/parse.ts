// User data as cloud-init reads it: RunInstances carries it base64-encoded; it may be gzip-compressed;
// it is a `#cloud-config` document, a `#!` script, a `#cloud-boothook`, or a MIME multipart message
// holding several of them (cloud-init's `text/cloud-config`, `text/x-shellscript`, ... parts). What
// cloud-init would do that seclab does not (`#include` URLs, part handlers, jinja templates) is reported
// as a warning, never silently dropped.
import { gunzipSync } from 'node:zlib';
import { parseDocument } from 'yaml';

export type PartKind = 'cloud-config' | 'shellscript' | 'boothook' | 'unsupported';

export interface UserDataPart {
  kind: PartKind;
  /** The part's file name (MIME `filename`, else part-001, ... as cloud-init names them). */
  name: string;
  /** MIME type as cloud-init names it (text/cloud-config, text/x-shellscript, ...). */
  type: string;
  content: Buffer;
}

export interface ParsedUserData {
  parts: UserDataPart[];
  /** The `#cloud-config` parts merged in order (later keys replace earlier ones, cloud-init's default). */
  config: Record<string, unknown>;
  warnings: string[];
}

const STARTS: [string, PartKind, string][] = [
  ['#cloud-config-archive', 'unsupported', 'text/cloud-config-archive'],
  ['#cloud-config', 'cloud-config', 'text/cloud-config'],
  ['#cloud-boothook', 'boothook', 'text/cloud-boothook'],
  ['#!', 'shellscript', 'text/x-shellscript'],
  ['#include-once', 'unsupported', 'text/x-include-once-url'],
  ['#include', 'unsupported', 'text/x-include-url'],
  ['#part-handler', 'unsupported', 'text/part-handler'],
  ['## template: jinja', 'unsupported', 'text/jinja2'],
  ['#upstart-job', 'unsupported', 'text/upstart-job'],
];

const TYPES: Record<string, PartKind> = {
  'text/cloud-config': 'cloud-config',
  'text/x-shellscript': 'shellscript',
  'text/cloud-boothook': 'boothook',
};

/** The bytes of user data as given to RunInstances (`UserData` is base64); plain text is accepted too. */
export function decodeUserData(input: string | Buffer): Buffer {
  let buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const text = buf.toString('latin1').trim();
  // RunInstances' UserData is base64; a student's file usually is not.
  if (text.length && /^[A-Za-z0-9+/=\r\n]+$/.test(text) && !text.startsWith('#')) {
    const b = Buffer.from(text, 'base64');
    if (b.length) buf = b;
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf, { maxOutputLength: 16 * 1024 * 1024 });
  return buf;
}

/** Parse user data (raw bytes or RunInstances' base64). */
export function parseUserData(input: string | Buffer): ParsedUserData {
  const data = decodeUserData(input);
  const warnings: string[] = [];
  const parts: UserDataPart[] = [];
  if (data.length > 16 * 1024) warnings.push(`user data is ${data.length} bytes: AWS limits it to 16 KB (before base64) — it would be refused by RunInstances on AWS`);
  const text = data.toString('utf8');
  if (/^(mime-version|content-type):/im.test(text.split(/\r?\n\r?\n/)[0] ?? '') && /multipart\//i.test(text.slice(0, 2000))) {
    splitMime(data, parts, warnings);
  } else if (text.trim().length) {
    parts.push(partOf(data, `part-001`, undefined, warnings));
  }
  const config: Record<string, unknown> = {};
  for (const p of parts) {
    if (p.kind !== 'cloud-config') continue;
    const doc = parseDocument(p.content.toString('utf8'), { prettyErrors: false, version: '1.1' });
    if (doc.errors.length) {
      warnings.push(`${p.name}: the #cloud-config is not valid YAML (${doc.errors[0]!.message.split('\n')[0]}): cloud-init ignores the whole part, so does seclab`);
      continue;
    }
    const v = doc.toJS() as unknown;
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) {
      warnings.push(`${p.name}: a #cloud-config must be a mapping (key: value), this one is a ${Array.isArray(v) ? 'list' : typeof v}: ignored`);
      continue;
    }
    Object.assign(config, v);
  }
  return { parts, config, warnings };
}

function partOf(content: Buffer, name: string, mimeType: string | undefined, warnings: string[]): UserDataPart {
  let type = mimeType?.toLowerCase();
  let kind: PartKind | undefined = type ? TYPES[type] : undefined;
  const head = content.toString('utf8', 0, 64).replace(/^\uFEFF/, '');
  if (!kind && (!type || type === 'text/plain' || type === 'text/x-not-multipart')) {
    const hit = STARTS.find(([s]) => head.startsWith(s));
    if (hit) [, kind, type] = hit;
  }
  if (!kind) kind = 'unsupported';
  if (kind === 'cloud-config' && !head.startsWith('#cloud-config') && !mimeType) kind = 'unsupported';
  if (kind === 'unsupported') {
    const what = type && type !== 'text/plain' ? type : `a part starting with ${JSON.stringify(head.split('\n')[0]!.slice(0, 30))}`;
    warnings.push(`${name}: ${what} is not interpreted by seclab (supported: #cloud-config, #! shell scripts, #cloud-boothook, MIME multipart of them)${/include/.test(type ?? '') ? '; #include fetches URLs at boot, which the lab host has no network for' : ''}`);
  }
  return { kind, name, type: type ?? 'text/plain', content };
}

function headerMap(block: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return m;
}

function param(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(header);
  return m ? (m[1] ?? m[2]) : undefined;
}

function splitMime(data: Buffer, parts: UserDataPart[], warnings: string[], depth = 0): void {
  const text = data.toString('latin1');
  const sep = /\r?\n\r?\n/.exec(text);
  if (!sep) return void warnings.push('MIME user data without a body: ignored');
  const headers = headerMap(text.slice(0, sep.index));
  const boundary = param(headers.get('content-type'), 'boundary');
  if (!boundary) return void warnings.push('MIME multipart user data without a boundary: ignored');
  const body = text.slice(sep.index + sep[0].length);
  const chunks = body.split(new RegExp(`(?:^|\\r?\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // chunks[0] is the preamble; a chunk starting with -- is the closing boundary.
  for (const raw of chunks.slice(1)) {
    if (raw.startsWith('--')) break;
    const chunk = raw.replace(/^[ \t]*\r?\n/, '');
    const s = /\r?\n\r?\n/.exec(chunk);
    const h = headerMap(s ? chunk.slice(0, s.index) : chunk);
    let content = Buffer.from(s ? chunk.slice(s.index + s[0].length) : '', 'latin1');
    const ctype = (h.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
    const enc = (h.get('content-transfer-encoding') ?? '').toLowerCase();
    if (enc === 'base64') content = Buffer.from(content.toString('latin1'), 'base64');
    else if (enc === 'quoted-printable') content = Buffer.from(content.toString('latin1').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, x: string) => String.fromCharCode(parseInt(x, 16))), 'latin1');
    if (content[0] === 0x1f && content[1] === 0x8b) content = gunzipSync(content, { maxOutputLength: 16 * 1024 * 1024 });
    const name = param(h.get('content-disposition'), 'filename') ?? param(h.get('content-type'), 'name') ?? `part-${String(parts.length + 1).padStart(3, '0')}`;
    if (ctype.startsWith('multipart/') && depth < 4) {
      splitMime(Buffer.concat([Buffer.from(`Content-Type: ${h.get('content-type')}\n\n`), content]), parts, warnings, depth + 1);
      continue;
    }
    if (ctype === 'text/x-shellscript' && !content.toString('utf8', 0, 2).startsWith('#!')) {
      warnings.push(`${name}: a text/x-shellscript part without a #! line: cloud-init cannot execute it (Exec format error), nor does seclab`);
    }
    parts.push(partOf(content, name, ctype, warnings));
  }
}
