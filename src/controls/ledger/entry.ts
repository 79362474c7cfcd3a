// One audited event as a ledger entry: RFC 8785 canonical JSON (JCS), UTF-8, so the same event always
// gives the same bytes and the same leaf hash, whoever writes it (the feed Lambda, the CLI, the auditor
// re-deriving entries from CloudTrail).

import canonicalize from 'canonicalize';
import { LedgerError } from './hash.ts';
import { MAX_ENTRY_SIZE } from './tiles.ts';

export interface LedgerEntry {
  v: 1;
  kind: 'cloudtrail' | 'app';
  /** Where it came from: for CloudTrail {type:'cloudtrail', eventID, eventSource, eventName}; for the app
   *  {type:'app-audit', logGroup, logStream, id}. */
  source: Record<string, string>;
  time: string; // ISO 8601 of the event
  event: Record<string, unknown>;
}

export const ENTRY_KINDS = ['cloudtrail', 'app'] as const;

/** RFC 8785 canonical JSON. LedgerError('not-json') for values JSON cannot represent (NaN, cycles, lone surrogates, undefined). */
export function canonicalJson(v: unknown): string {
  let out: string | undefined;
  try {
    out = canonicalize(v);
  } catch (e) {
    throw new LedgerError('not-json', `cannot write this value as canonical JSON (RFC 8785): ${(e as Error).message}`);
  }
  if (out === undefined) throw new LedgerError('not-json', `cannot write ${typeof v} as canonical JSON (RFC 8785): only objects, arrays, strings, finite numbers, booleans and null`);
  return out;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first way `e` is not a LedgerEntry, or undefined. */
export function entryProblem(e: unknown): string | undefined {
  if (!isPlainObject(e)) return 'the entry must be a JSON object';
  if (e.v !== 1) return `"v" must be 1 (this ledger's entry format), got ${JSON.stringify(e.v)}`;
  if (!ENTRY_KINDS.includes(e.kind as never)) return `"kind" must be one of ${ENTRY_KINDS.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(e.kind)}`;
  if (!isPlainObject(e.source)) return '"source" must be an object of strings (where the event came from)';
  for (const [k, val] of Object.entries(e.source)) if (typeof val !== 'string') return `"source.${k}" must be a string, got ${typeof val}`;
  if (typeof e.time !== 'string' || !ISO_8601.test(e.time) || Number.isNaN(Date.parse(e.time))) return `"time" must be an ISO 8601 date-time such as 2026-01-02T03:04:05Z, got ${JSON.stringify(e.time)}`;
  if (!isPlainObject(e.event)) return '"event" must be an object (the audited event itself)';
  const extra = Object.keys(e).filter((k) => !['v', 'kind', 'source', 'time', 'event'].includes(k));
  if (extra.length) return `unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}: an entry has only v, kind, source, time and event`;
  return undefined;
}

/** Canonical JSON bytes of an entry. LedgerError 'bad-entry' on a malformed entry, 'entry-too-large' above 65,535 bytes. */
export function encodeEntry(e: LedgerEntry): Buffer {
  const problem = entryProblem(e);
  if (problem) throw new LedgerError('bad-entry', `cannot log this entry: ${problem}`);
  const b = Buffer.from(canonicalJson(e), 'utf8');
  if (b.length > MAX_ENTRY_SIZE) {
    throw new LedgerError('entry-too-large', `entry is ${b.length} bytes of canonical JSON; a tlog-tiles entry holds at most ${MAX_ENTRY_SIZE}: log a digest or a trimmed copy of the event (e.g. drop responseElements) instead`);
  }
  return b;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses entry bytes. LedgerError 'bad-entry' with the byte position when they are not UTF-8 or not JSON,
 * or not a LedgerEntry; 'not-canonical' (unless `canonical: false`) when the bytes are not the entry's
 * RFC 8785 form — the same event logged with other bytes would hash differently.
 */
export function decodeEntry(b: Buffer, opts: { canonical?: boolean } = {}): LedgerEntry {
  let text: string;
  try {
    text = UTF8.decode(b);
  } catch {
    let pos = 0;
    // find the first byte that breaks UTF-8 (for the message)
    for (let i = 1; i <= b.length; i++) {
      try {
        UTF8.decode(b.subarray(0, i));
        pos = i;
      } catch {
        /* keep going: an incomplete sequence may complete */
      }
    }
    throw new LedgerError('bad-entry', `entry is not UTF-8 text: invalid byte sequence after byte ${pos} of ${b.length}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LedgerError('bad-entry', `entry is not JSON (${(e as Error).message}); first bytes: ${JSON.stringify(text.slice(0, 60))}`);
  }
  const problem = entryProblem(v);
  if (problem) throw new LedgerError('bad-entry', `not a ledger entry: ${problem}`);
  if (opts.canonical !== false) {
    const canon = Buffer.from(canonicalJson(v), 'utf8');
    if (!canon.equals(b)) {
      let i = 0;
      while (i < b.length && i < canon.length && b[i] === canon[i]) i++;
      throw new LedgerError('not-canonical', `entry is JSON but not in RFC 8785 canonical form: it differs from its canonical form at byte ${i} (${JSON.stringify(b.subarray(i, i + 20).toString('utf8'))} vs ${JSON.stringify(canon.subarray(i, i + 20).toString('utf8'))})`);
    }
  }
  return v as LedgerEntry;
}
