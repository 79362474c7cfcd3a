// File types: how an object's bytes become text segments with Macie-shaped locations.
//   text (any UTF-8/UTF-16 text)        -> lineRanges
//   CSV, TSV, XLSX                      -> cells (row, column, columnName; XLSX also cellReference)
//   JSON, JSON Lines, Parquet           -> records (recordIndex, jsonPath)
//   DOCX                                -> lineRanges over the document's paragraphs
//   gzip, ZIP, TAR                      -> the files inside (nested up to MAX_NESTING)
// Parquet is read with hyparquet (uncompressed and Snappy pages). Anything else (PDF, Avro, images,
// other binaries) is SKIPPED with Macie's reason code.

import { gunzipSync, inflateRawSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import { parquetReadObjects } from 'hyparquet';
import { findInText, type Plan, type RawMatch } from './engine.ts';
import type { Cell, Range, Record as JsonRecord } from './types.ts';
import { work } from './work.ts';

export const LIMITS = {
  /** Largest object (or decompressed file) analysed, bytes. */
  maxObjectBytes: 64 * 1024 * 1024,
  /** Total bytes extracted from one archive. */
  maxExtractedBytes: 256 * 1024 * 1024,
  /** Archives inside archives. */
  maxNesting: 10,
  /** Files analysed inside one archive. */
  maxArchiveFiles: 10_000,
  /** JSON nesting depth. */
  maxJsonDepth: 256,
  /** XLSX sheet bounds (Excel's): rows and columns a cell may claim. */
  maxXlsxRows: 1_048_576,
  maxXlsxColumns: 16_384,
};

export type Location = { lineRanges: Range } | { cells: Cell } | { records: JsonRecord };
export interface Located {
  m: RawMatch;
  loc: Location;
}

export interface FileResult {
  name: string;
  fileType: string;
  found: Located[];
  status: 'COMPLETE' | 'PARTIAL' | 'SKIPPED';
  reason?: string;
  size: number;
  files?: FileResult[];
}

export const MIME = {
  text: 'text/plain',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  jsonl: 'application/jsonl',
  gzip: 'application/gzip',
  zip: 'application/zip',
  tar: 'application/x-tar',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pdf: 'application/pdf',
  parquet: 'application/vnd.apache.parquet',
  avro: 'application/avro',
  binary: 'application/octet-stream',
} as const;

// ---- text and lines -------------------------------------------------------------------------------

export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return undefined;
  const text = new TextDecoder('utf-8').decode(bytes);
  // mostly undecodable: not text
  let bad = 0;
  for (let i = 0; i < Math.min(text.length, 8192); i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  if (bad > Math.min(text.length, 8192) * 0.1) return undefined;
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Line numbers (from 1) and columns (from 1) of offsets in a text. */
export class LineIndex {
  private starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  range(start: number, end: number): Range {
    const line = this.lineOf(start);
    return { start: line, end: this.lineOf(Math.max(start, end - 1)), startColumn: start - this.starts[line - 1]! + 1 };
  }
}

export function scanPlainText(text: string, plan: Plan): Located[] {
  const matches = findInText(text, plan);
  if (!matches.length) return [];
  const idx = new LineIndex(text);
  return matches.map((m) => ({ m, loc: { lineRanges: idx.range(m.start, m.end) } }));
}

// ---- CSV / TSV ------------------------------------------------------------------------------------

/** RFC 4180 rows (quoted fields with "" escapes and line breaks; CRLF or LF). */
export function parseDelimited(text: string, delim: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === delim) {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A first row that names columns: some letters, no cell with 3+ consecutive digits or an @. */
export function looksLikeHeader(row: readonly string[]): boolean {
  return row.some((c) => /[A-Za-z]/.test(c)) && row.every(headerLike);
}

/**
 * A column name: empty, or a name that starts with a letter or _ and is mostly not digits
 * ("email_sha256", "address line 2"); a cell with @, or a number, or mostly digits is data.
 */
function headerLike(cell: string): boolean {
  const c = cell.trim();
  if (!c) return true;
  if (!/^[A-Za-z_][A-Za-z0-9_ .\-()#/:]*$/.test(c)) return false;
  const digits = c.replace(/\D/g, '').length;
  return digits * 5 <= c.length * 2;
}

/** One row of a table: `r` from 0; `cols[i]` is the column (from 0) of `cells[i]` (default: i). */
interface TableRow {
  r: number;
  cells: string[];
  cols?: number[];
}

function scanTable(rows: TableRow[], plan: Plan, sheet?: string, cellRef?: (r: number, c: number) => string): Located[] {
  const out: Located[] = [];
  const first = rows[0];
  const header = rows.length > 1 && first && first.r === 0 && looksLikeHeader(first.cells) ? first : undefined;
  const names = new Map<number, string>();
  header?.cells.forEach((v, i) => names.set(header.cols?.[i] ?? i, v));
  for (const row of rows) {
    const r = row.r;
    for (let i = 0; i < row.cells.length; i++) {
      const v = row.cells[i]!;
      if (!v) continue;
      const c = row.cols?.[i] ?? i;
      const columnName = names.get(c) || undefined;
      for (const m of findInText(v, plan, { ...(columnName && r > 0 ? { context: columnName } : {}), structured: true })) {
        const cell: Cell = { row: r + 1, column: c + 1, ...(columnName ? { columnName } : {}), ...(cellRef ? { cellReference: `${sheet}!${cellRef(r, c)}` } : {}) };
        out.push({ m, loc: { cells: cell } });
      }
    }
  }
  return out;
}

// ---- JSON / JSON Lines ----------------------------------------------------------------------------

/** A jsonPath element: $.a.b[0], bracket notation for names that are not identifiers; `short`: as
 * Macie reports it, a name longer than 20 characters keeps its last 20. */
function pathPart(key: string | number, short = false): string {
  if (typeof key === 'number') return `[${key}]`;
  const k = short && key.length > 20 ? key.slice(-20) : key;
  return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `['${k.replace(/'/g, "\\'")}']`;
}

/** As Macie, a path longer than 250 characters loses elements from its start. */
export function macieJsonPath(path: string): string {
  if (path.length <= 250) return path;
  let p = path;
  while (p.length > 250) {
    const m = /^(?:\$)?(?:\.[^.[]+|\[[^\]]*\])/.exec(p);
    if (!m || m[0].length >= p.length) break;
    p = `$${p.slice(m[0].length)}`;
  }
  return p.length > 250 ? p.slice(-250) : p;
}

class NestingError extends Error {}

/** `path`: the full path (keywords are looked for in it); `shown`: Macie's shortened one, reported. */
function walkJson(v: unknown, path: string, depth: number, recordIndex: number, plan: Plan, out: Located[], shown = path): void {
  if (depth > LIMITS.maxJsonDepth) throw new NestingError();
  if (v instanceof Date) return;
  if (v instanceof Uint8Array) v = new TextDecoder().decode(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
    const s = String(v);
    for (const m of findInText(s, plan, { context: path, structured: true })) out.push({ m, loc: { records: { recordIndex, jsonPath: macieJsonPath(shown) } } });
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => walkJson(x, path + pathPart(i), depth + 1, recordIndex, plan, out, shown + pathPart(i)));
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const sk = shown + pathPart(k, true);
      // field names can hold data too (a map keyed by email, say)
      for (const m of findInText(k, plan, { structured: true })) out.push({ m, loc: { records: { recordIndex, jsonPath: macieJsonPath(sk) } } });
      walkJson(x, path + pathPart(k), depth + 1, recordIndex, plan, out, sk);
    }
  }
}

/** JSON text: numbers that do not fit a double (16+ digit card numbers) are kept as written. */
function parseJsonExact(text: string): unknown {
  return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])/g, (all, str: string | undefined, num: string | undefined) => (str !== undefined ? all : `"${num}"`)));
}

// ---- OOXML ----------------------------------------------------------------------------------------

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, trimValues: false, isArray: (n) => ['sheet', 'Relationship', 'row', 'c', 'si', 'r'].includes(n) });

function xmlText(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(xmlText).join('');
  const o = node as Record<string, unknown>;
  if ('#text' in o) return String(o['#text']);
  if ('t' in o) return xmlText(o['t']);
  if ('r' in o) return xmlText(o['r']);
  return '';
}

const colLetters = (c: number) => {
  let s = '';
  for (let n = c + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
};
const colIndex = (ref: string) => [...ref.replace(/\d+$/, '')].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;

/** `part(path)`: an OOXML part's bytes (undefined when absent). */
function scanXlsx(part: (path: string) => Uint8Array | undefined, plan: Plan): Located[] {
  const dec = (p: string) => {
    const b = part(p);
    return b ? new TextDecoder().decode(b) : '';
  };
  const shared: string[] = ((xml.parse(dec('xl/sharedStrings.xml'))?.sst?.si as unknown[]) ?? []).map(xmlText);
  const wb = xml.parse(dec('xl/workbook.xml'));
  const rels = (xml.parse(dec('xl/_rels/workbook.xml.rels'))?.Relationships?.Relationship as Record<string, string>[]) ?? [];
  const out: Located[] = [];
  for (const sh of (wb?.workbook?.sheets?.sheet as Record<string, string>[]) ?? []) {
    const rel = rels.find((r) => r['@_Id'] === sh['@_r:id']);
    if (!rel) continue;
    const target = rel['@_Target']!.replace(/^\/?xl\//, '').replace(/^\//, '');
    const ws = xml.parse(dec(`xl/${target}`));
    const rows: TableRow[] = [];
    // Row and cell positions come from the file (r="7", r="C7"): taken only when they are within the
    // sheet's bounds and after the previous row or cell; otherwise the next position is used, so a
    // crafted file can neither claim huge or negative rows nor make the scan walk empty rows.
    let prevRow = -1;
    for (const row of (ws?.worksheet?.sheetData?.row as Record<string, unknown>[]) ?? []) {
      const declared = Number(row['@_r']);
      const r = Number.isInteger(declared) && declared - 1 > prevRow && declared <= LIMITS.maxXlsxRows ? declared - 1 : prevRow + 1;
      if (r >= LIMITS.maxXlsxRows) break;
      prevRow = r;
      const cells: string[] = [];
      const cols: number[] = [];
      let prevCol = -1;
      for (const c of (row['c'] as Record<string, unknown>[]) ?? []) {
        const ref = /^([A-Z]{1,3})\d*$/.exec(String(c['@_r'] ?? ''));
        const dc = ref ? colIndex(ref[1]!) : -1;
        const ci = dc > prevCol && dc < LIMITS.maxXlsxColumns ? dc : prevCol + 1;
        if (ci >= LIMITS.maxXlsxColumns) break;
        prevCol = ci;
        const t = c['@_t'];
        cells.push(t === 's' ? shared[Number(xmlText(c['v']))] ?? '' : t === 'inlineStr' ? xmlText(c['is']) : xmlText(c['v']));
        cols.push(ci);
      }
      rows.push({ r, cells, cols });
    }
    out.push(...scanTable(rows, plan, String(sh['@_name']), (r, c) => `${colLetters(c)}${r + 1}`));
  }
  return out;
}

function docxText(part: (path: string) => Uint8Array | undefined): string {
  const src = new TextDecoder().decode(part('word/document.xml'));
  const paras: string[] = [];
  for (const p of src.split(/<\/w:p>/)) {
    let t = '';
    for (const m of p.matchAll(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>|<w:(tab|br|cr)\/>/g)) t += m[1] !== undefined ? m[1] : m[2] === 'tab' ? '\t' : '\n';
    if (/<w:p[ >]/.test(p) || t) paras.push(unescapeXml(t));
  }
  return paras.join('\n');
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_a, e: string) =>
    e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'amp' ? '&' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)),
  );
}

// ---- TAR ------------------------------------------------------------------------------------------

function untar(bytes: Uint8Array): { name: string; data: Uint8Array }[] | undefined {
  const out: { name: string; data: Uint8Array }[] = [];
  const str = (a: number, b: number) => new TextDecoder().decode(bytes.subarray(a, b)).replace(/\0.*$/s, '');
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= bytes.length) {
    if (bytes.subarray(off, off + 512).every((b) => b === 0)) break;
    const size = parseInt(str(off + 124, off + 136).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) return undefined;
    const type = String.fromCharCode(bytes[off + 156]!);
    const prefix = str(off + 345, off + 500);
    let name = longName ?? (prefix ? `${prefix}/` : '') + str(off, off + 100);
    longName = undefined;
    const data = bytes.subarray(off + 512, off + 512 + size);
    if (type === 'L') longName = new TextDecoder().decode(data).replace(/\0.*$/s, '');
    else if (type === '0' || type === '\0' || type === '7') out.push({ name, data });
    off += 512 + Math.ceil(size / 512) * 512;
    name = '';
  }
  return out;
}

const isTar = (b: Uint8Array) => b.length >= 512 && new TextDecoder().decode(b.subarray(257, 262)) === 'ustar';

// ---- gzip and ZIP, with the output counted ------------------------------------------------------

/** Decompressed bytes, or why not. Sizes declared in headers (gzip ISIZE, ZIP's sizes) are never
 * trusted: zlib stops as soon as its real output would pass `room` (maxOutputLength). */
function inflateBounded(data: Uint8Array, kind: 'gzip' | 'raw', room: number): Uint8Array | 'oversize' | 'malformed' {
  try {
    const opts = { maxOutputLength: Math.max(1, room) };
    const out = kind === 'gzip' ? gunzipSync(data, opts) : inflateRawSync(data, opts);
    if (out.length > room) return 'oversize';
    work.inflatedBytes += out.length;
    return out;
  } catch (e) {
    return (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'oversize' : 'malformed';
  }
}

interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  csize: number;
  offset: number;
}

/** A ZIP's central directory (ZIP64 included); undefined when it is not a readable ZIP. At most
 * maxArchiveFiles + 1 entries are listed (the archive reports the rest as not processed). */
function zipEntries(b: Uint8Array): ZipEntry[] | undefined {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => Number(dv.getBigUint64(o, true));
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (u32(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  let count = u16(eocd + 10);
  let p = u32(eocd + 16);
  if ((count === 0xffff || p === 0xffffffff) && eocd >= 20 && u32(eocd - 20) === 0x07064b50) {
    const z = u64(eocd - 12);
    if (z + 56 <= b.length && u32(z) === 0x06064b50) {
      count = u64(z + 32);
      p = u64(z + 48);
    }
  }
  const out: ZipEntry[] = [];
  for (let n = 0; n < count && out.length <= LIMITS.maxArchiveFiles; n++) {
    if (p + 46 > b.length || u32(p) !== 0x02014b50) return undefined;
    const flags = u16(p + 8);
    const method = u16(p + 10);
    let csize = u32(p + 20);
    let usize = u32(p + 24);
    const fnl = u16(p + 28);
    const el = u16(p + 30);
    const cl = u16(p + 32);
    let offset = u32(p + 42);
    if (p + 46 + fnl + el + cl > b.length) return undefined;
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(b.subarray(p + 46, p + 46 + fnl));
    // ZIP64 extended information: the 8-byte values of the fields that hold 0xFFFFFFFF, in this order
    for (let e = p + 46 + fnl; e + 4 <= p + 46 + fnl + el; e += 4 + u16(e + 2)) {
      if (u16(e) !== 1) continue;
      let q = e + 4;
      const stop = Math.min(b.length, q + u16(e + 2));
      if (usize === 0xffffffff && q + 8 <= stop) (usize = u64(q)), (q += 8);
      if (csize === 0xffffffff && q + 8 <= stop) (csize = u64(q)), (q += 8);
      if (offset === 0xffffffff && q + 8 <= stop) offset = u64(q);
    }
    out.push({ name, flags, method, csize, offset });
    p += 46 + fnl + el + cl;
  }
  return out;
}

/** One ZIP member's bytes, decompressed within `room`, or why not. */
function zipMember(b: Uint8Array, en: ZipEntry, room: number): Uint8Array | 'oversize' | 'malformed' | 'unsupported' {
  const o = en.offset;
  if (o + 30 > b.length) return 'malformed';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(o, true) !== 0x04034b50) return 'malformed';
  const start = o + 30 + dv.getUint16(o + 26, true) + dv.getUint16(o + 28, true);
  if (start + en.csize > b.length) return 'malformed';
  const data = b.subarray(start, start + en.csize);
  if (en.flags & 1) return 'unsupported'; // encrypted
  if (en.method === 0) return data.length > room ? 'oversize' : data;
  if (en.method === 8) return inflateBounded(data, 'raw', room);
  return 'unsupported';
}

// ---- dispatch -------------------------------------------------------------------------------------

const ext = (name: string) => (/\.([A-Za-z0-9]+)$/.exec(name)?.[1] ?? '').toLowerCase();
const startsWith = (b: Uint8Array, ...sig: number[]) => sig.every((x, i) => b[i] === x);

export async function scanFile(name: string, bytes: Uint8Array, plan: Plan, depth = 0, budget = { extracted: 0 }): Promise<FileResult> {
  const base = { name, size: bytes.length };
  const skipped = (fileType: string, reason: string): FileResult => ({ ...base, fileType, found: [], status: 'SKIPPED', reason });
  if (bytes.length > LIMITS.maxObjectBytes) return skipped(MIME.binary, 'FILE_SIZE_LIMIT_EXCEEDED');
  const e = ext(name);

  // what may still be extracted: one file's limit, and what is left of the archive's total
  const room = () => Math.min(LIMITS.maxObjectBytes, LIMITS.maxExtractedBytes - budget.extracted);
  const oversize = () => (room() < LIMITS.maxObjectBytes ? 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT' : 'FILE_SIZE_LIMIT_EXCEEDED');

  if (startsWith(bytes, 0x1f, 0x8b)) {
    if (depth >= LIMITS.maxNesting) return skipped(MIME.gzip, 'ARCHIVE_NESTING_LEVEL_OVER_LIMIT');
    const inner = inflateBounded(bytes, 'gzip', room());
    if (inner === 'oversize') return skipped(MIME.gzip, 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT');
    if (inner === 'malformed') return skipped(MIME.gzip, 'MALFORMED_FILE');
    budget.extracted += inner.length;
    const innerName = e === 'tgz' ? name.replace(/\.tgz$/i, '.tar') : name.replace(/\.(gz|gzip)$/i, '');
    const r = await scanFile(innerName === name ? `${name}.out` : innerName, inner, plan, depth + 1, budget);
    return { ...base, fileType: MIME.gzip, found: r.found, status: r.status, ...(r.reason ? { reason: r.reason } : {}), files: [r] };
  }

  if (startsWith(bytes, 0x50, 0x4b, 0x03, 0x04) || startsWith(bytes, 0x50, 0x4b, 0x05, 0x06)) {
    const entries = zipEntries(bytes);
    if (!entries) return skipped(MIME.zip, 'MALFORMED_FILE');
    const byName = new Map(entries.map((en) => [en.name, en]));
    /** Extracts a member within the budget; a reason code when it cannot. */
    const extract = (en: ZipEntry): Uint8Array | string => {
      const r = zipMember(bytes, en, room());
      if (r === 'oversize') return oversize();
      if (r === 'malformed') return 'MALFORMED_FILE';
      if (r === 'unsupported') return 'UNSUPPORTED_FILE_TYPE_EXCEPTION';
      budget.extracted += r.length;
      return r;
    };
    if (byName.has('word/document.xml') || byName.has('xl/workbook.xml')) {
      const isDocx = byName.has('word/document.xml');
      const fileType = isDocx ? MIME.docx : MIME.xlsx;
      const parts = new Map<string, Uint8Array>();
      const part = (p: string): Uint8Array | undefined => {
        const en = byName.get(p);
        if (!en) return undefined;
        let got = parts.get(p);
        if (!got) {
          const r = extract(en);
          if (typeof r === 'string') throw new PartError(r);
          parts.set(p, (got = r));
        }
        return got;
      };
      try {
        if (isDocx) return { ...base, fileType, found: scanPlainText(docxText(part), plan), status: 'COMPLETE' };
        return { ...base, fileType, found: scanXlsx(part, plan), status: 'COMPLETE' };
      } catch (err) {
        if (err instanceof PartError) {
          const reason = /LIMIT/.test(err.message) ? 'OOXML_UNCOMPRESSED_SIZE_EXCEEDS_LIMIT' : err.message;
          return skipped(fileType, reason);
        }
        if (isDocx) throw err;
        return skipped(MIME.xlsx, 'UNABLE_TO_PARSE_FILE');
      }
    }
    return archive(MIME.zip, entries.filter((en) => !en.name.endsWith('/')).map((en) => ({ name: en.name, get: () => extract(en) })));
  }

  if (isTar(bytes) || e === 'tar') {
    const entries = untar(bytes);
    if (!entries) return skipped(MIME.tar, 'MALFORMED_FILE');
    return archive(MIME.tar, entries.map((en) => ({ name: en.name, get: () => en.data })));
  }

  if (startsWith(bytes, 0x25, 0x50, 0x44, 0x46)) return skipped(MIME.pdf, 'UNSUPPORTED_FILE_TYPE_EXCEPTION');
  if (startsWith(bytes, 0x50, 0x41, 0x52, 0x31)) {
    let rows: Record<string, unknown>[];
    try {
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      rows = (await parquetReadObjects({ file: buf, rowFormat: 'object' })) as Record<string, unknown>[];
    } catch (err) {
      return skipped(MIME.parquet, /compress|codec/i.test(String((err as Error).message)) ? 'PARQUET_UNSUPPORTED_COMPRESSION' : 'UNABLE_TO_PARSE_FILE');
    }
    const found: Located[] = [];
    try {
      rows.forEach((row, i) => walkJson(row, '$', 0, i, plan, found));
    } catch (err) {
      if (err instanceof NestingError) return skipped(MIME.parquet, 'PARQUET_NESTING_LEVEL_OVER_LIMIT');
      throw err;
    }
    return { ...base, fileType: MIME.parquet, found, status: 'COMPLETE' };
  }
  if (startsWith(bytes, 0x4f, 0x62, 0x6a, 0x01)) return skipped(MIME.avro, 'UNSUPPORTED_FILE_TYPE_EXCEPTION');

  const text = decodeText(bytes);
  if (text === undefined) return skipped(MIME.binary, 'UNSUPPORTED_FILE_TYPE_EXCEPTION');

  if (e === 'csv' || e === 'tsv') {
    const rows = parseDelimited(text, e === 'csv' ? ',' : '\t').map((cells, r): TableRow => ({ r, cells }));
    return { ...base, fileType: e === 'csv' ? MIME.csv : MIME.tsv, found: scanTable(rows, plan), status: 'COMPLETE' };
  }
  if (e === 'jsonl' || e === 'ndjson') {
    const found: Located[] = [];
    let bad = false;
    let deep = false;
    text.split('\n').forEach((line, i) => {
      if (deep || !line.trim()) return;
      try {
        walkJson(parseJsonExact(line), '$', 0, i, plan, found);
      } catch (err) {
        if (err instanceof NestingError) {
          deep = true;
          return;
        }
        bad = true;
        for (const m of findInText(line, plan)) found.push({ m, loc: { records: { recordIndex: i, jsonPath: '$' } } });
      }
    });
    // a record nested deeper than the limit: this object is not analysed (as a JSON document), the job goes on
    if (deep) return skipped(MIME.jsonl, 'JSON_NESTING_LEVEL_OVER_LIMIT');
    return { ...base, fileType: MIME.jsonl, found, status: bad ? 'PARTIAL' : 'COMPLETE', ...(bad ? { reason: 'UNABLE_TO_PARSE_FILE' } : {}) };
  }
  const trimmed = text.trimStart();
  if (e === 'json' || ((trimmed.startsWith('{') || trimmed.startsWith('[')) && e !== 'txt')) {
    try {
      const doc = parseJsonExact(text);
      const found: Located[] = [];
      try {
        walkJson(doc, '$', 0, 0, plan, found);
      } catch (err) {
        if (err instanceof NestingError) return skipped(MIME.json, 'JSON_NESTING_LEVEL_OVER_LIMIT');
        throw err;
      }
      return { ...base, fileType: MIME.json, found, status: 'COMPLETE' };
    } catch {
      if (e === 'json') return { ...base, fileType: MIME.json, found: scanPlainText(text, plan), status: 'PARTIAL', reason: 'UNABLE_TO_PARSE_FILE' };
    }
  }
  return { ...base, fileType: MIME.text, found: scanPlainText(text, plan), status: 'COMPLETE' };

  /** `get()`: the member's bytes, or the reason code it could not be extracted (it is then SKIPPED). */
  async function archive(fileType: string, entries: { name: string; get: () => Uint8Array | string }[]): Promise<FileResult> {
    if (depth >= LIMITS.maxNesting) return skipped(fileType, 'ARCHIVE_NESTING_LEVEL_OVER_LIMIT');
    const results: FileResult[] = [];
    let why: string | undefined;
    for (const en of entries) {
      if (results.length >= LIMITS.maxArchiveFiles) {
        why = 'ARCHIVE_TOTAL_DOCUMENTS_PROCESSED_OVER_LIMIT';
        break;
      }
      const data = en.get();
      if (typeof data === 'string') {
        // not expanded: a member over the limits is reported, never decompressed past them
        if (data === 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT' || data === 'FILE_SIZE_LIMIT_EXCEEDED') why ??= 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT';
        results.push({ name: en.name, size: 0, fileType: MIME.binary, found: [], status: 'SKIPPED', reason: data });
        continue;
      }
      results.push(await scanFile(en.name, data, plan, depth + 1, budget));
    }
    const unprocessed = results.some((r) => r.status !== 'COMPLETE');
    if (!why && unprocessed) why = 'ARCHIVE_CONTAINS_UNPROCESSED_FILES';
    return { ...base, fileType, found: results.flatMap((r) => r.found), status: why ? 'PARTIAL' : 'COMPLETE', ...(why ? { reason: why } : {}), files: results };
  }
}

class PartError extends Error {}
