import { gzipSync, strToU8, zipSync } from 'fflate';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { LIMITS, scanObject, type ScanOptions } from '../../src/controls/dlp/index.ts';
import { resetWork, work } from '../../src/controls/dlp/work.ts';
import { group4, withCheckDigit } from './helpers.ts';

const ALL: ScanOptions = { managed: { selection: 'ALL' } };
const VISA = withCheckDigit('455673758003291');
const enc = (s: string) => new TextEncoder().encode(s);

describe('scanObject file types', () => {
  it('text: lineRanges', async () => {
    const r = await scanObject('notes.txt', enc(`hello\n\npay with visa ${group4(VISA)}\n`), ALL);
    expect(r).toMatchObject({ fileType: 'text/plain', status: 'COMPLETE', sizeClassified: 41 });
    expect(r.detections).toEqual([{ type: 'CREDIT_CARD_NUMBER', category: 'FINANCIAL_INFORMATION', count: 1, occurrences: { lineRanges: [{ start: 3, end: 3, startColumn: 15 }] } }]);
  });

  it('CSV: cells with row, column and column name; the column name is a keyword', async () => {
    const csv = `id,Customer SSN,notes\n1,219-45-6789,"said ""hi""\nthen left"\n2,  ,call +1 212 555 0143\n`;
    const r = await scanObject('people.csv', enc(csv), ALL);
    expect(r.fileType).toBe('text/csv');
    const by = Object.fromEntries(r.detections.map((d) => [d.type, d.occurrences]));
    expect(by['USA_SOCIAL_SECURITY_NUMBER']).toEqual({ cells: [{ row: 2, column: 2, columnName: 'Customer SSN' }] });
    expect(by['PHONE_NUMBER']).toEqual({ cells: [{ row: 3, column: 3, columnName: 'notes' }] });
  });

  it('CSV: the same SSN in a column without a keyword is not reported', async () => {
    const r = await scanObject('t.csv', enc('id,ref\n1,219-45-6789\n'), ALL);
    expect(r.detections).toEqual([]);
  });

  it('CSV: a header with digits in a column name (email_sha256) is still the header; a data row is not', async () => {
    const ci = { id: 'cdi-ref', name: 'card-ref', regex: 'cref_[a-z2-7]{24}', keywords: ['card_ref'], maximumMatchDistance: 50 };
    const opts: ScanOptions = { managed: { selection: 'NONE' }, custom: [ci] };
    const ref = 'cref_abcdefghijklmnopqrstuvwx';
    const r = await scanObject('t.csv', enc(`date,card_ref,email_sha256\n2026-11-02,${ref},9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n`), opts);
    expect(r.detections.map((d) => [d.type, d.occurrences])).toEqual([['cdi-ref', { cells: [{ row: 2, column: 2, columnName: 'card_ref' }] }]]);
    // a first row of data (an address, a number) is not taken for names
    const d = await scanObject('u.csv', enc(`qa.user@example.com,${ref}\nx,${ref}\n`), opts);
    expect(d.detections).toEqual([]);
  });

  it('TSV', async () => {
    const r = await scanObject('t.tsv', enc(`name\tcard number\nann\t${VISA}\n`), ALL);
    expect(r.fileType).toBe('text/tab-separated-values');
    expect(r.detections[0]).toMatchObject({ type: 'CREDIT_CARD_NUMBER', occurrences: { cells: [{ row: 2, column: 2, columnName: 'card number' }] } });
  });

  it('JSON: records with jsonPath; field names are keywords; long numbers keep their digits', async () => {
    const doc = `{"customer": {"ssn": "219-45-6789", "cards": [${VISA}], "e-mail": "x@example.net"}}`;
    const r = await scanObject('c.json', enc(doc), ALL);
    expect(r.fileType).toBe('application/json');
    const by = Object.fromEntries(r.detections.map((d) => [d.type, d.occurrences]));
    expect(by['USA_SOCIAL_SECURITY_NUMBER']).toEqual({ records: [{ recordIndex: 0, jsonPath: '$.customer.ssn' }] });
    expect(by['CREDIT_CARD_NUMBER']).toEqual({ records: [{ recordIndex: 0, jsonPath: '$.customer.cards[0]' }] });
    expect(by['EMAIL_ADDRESS']).toEqual({ records: [{ recordIndex: 0, jsonPath: "$.customer['e-mail']" }] });
  });

  it('JSON paths as Macie shortens them: names keep their last 20 characters, paths at most 250', async () => {
    const long = 'customer_social_security_number';
    const r = await scanObject('l.json', enc(JSON.stringify({ [long]: '219-45-6789' })), ALL);
    expect(r.detections[0]!.occurrences.records![0]!.jsonPath).toBe('$.cial_security_number');
    let deep: unknown = { ssn: '219-45-6789' };
    for (let i = 0; i < 40; i++) deep = { [`level_${String(i).padStart(2, '0')}`]: deep };
    const d = await scanObject('d.json', enc(JSON.stringify(deep)), ALL);
    const p = d.detections[0]!.occurrences.records![0]!.jsonPath;
    expect(p.length).toBeLessThanOrEqual(250);
    expect(p).toMatch(/^\$\.level_\d\d\..*\.level_00\.ssn$/);
  });

  it('JSON Lines: recordIndex is the line', async () => {
    const r = await scanObject('e.jsonl', enc(`{"a":1}\n{"a":2}\n{"contact":{"email":"y@example.org"}}\n`), ALL);
    expect(r.fileType).toBe('application/jsonl');
    expect(r.detections[0]!.occurrences).toEqual({ records: [{ recordIndex: 2, jsonPath: '$.contact.email' }] });
  });

  it('gzip and zip: the files inside, with nested archives', async () => {
    const inner = zipSync({ 'deep/cards.csv': strToU8(`card\n${VISA}\n`), 'readme.txt': strToU8('nothing') });
    const outer = zipSync({ 'a/b.zip': inner, 'log.txt.gz': gzipSync(strToU8('SSN 219-45-6789')) });
    const r = await scanObject('dump.zip', outer, ALL);
    expect(r.fileType).toBe('application/zip');
    expect(r.status).toBe('COMPLETE');
    expect(r.detections.map((d) => d.type).sort()).toEqual(['CREDIT_CARD_NUMBER', 'USA_SOCIAL_SECURITY_NUMBER']);
    expect(r.files!.map((f) => [f.name, f.fileType, f.detections.length])).toEqual([
      ['a/b.zip/deep/cards.csv', 'text/csv', 1], ['a/b.zip/readme.txt', 'text/plain', 0], ['log.txt', 'text/plain', 1],
    ]);
    const gz = await scanObject('x.json.gz', gzipSync(strToU8('{"ssn":"219-45-6789"}')), ALL);
    expect(gz.fileType).toBe('application/gzip');
    expect(gz.detections[0]!.occurrences).toEqual({ records: [{ recordIndex: 0, jsonPath: '$.ssn' }] });
  });

  it('archives nested deeper than the limit are not opened', async () => {
    let b: Uint8Array = strToU8('SSN 219-45-6789');
    for (let i = 0; i <= LIMITS.maxNesting; i++) b = gzipSync(b);
    const r = await scanObject('deep.gz', b, ALL);
    expect(r.status).not.toBe('COMPLETE');
    expect(JSON.stringify(r)).toMatch(/ARCHIVE_NESTING_LEVEL_OVER_LIMIT/);
  });

  it('Parquet (hyparquet): records with the row index and the column path', async () => {
    const buf = parquetWriteBuffer({ columnData: [
      { name: 'customer', data: ['ann', 'bob', 'cy'] },
      { name: 'ssn', data: ['219-45-6789', null, '219-45-6780'] },
      { name: 'card', data: ['n/a', 'n/a', VISA] },
      { name: 'visits', data: [1n, 2n, 3n], type: 'INT64' },
    ] });
    const r = await scanObject('people.parquet', new Uint8Array(buf), ALL);
    expect(r).toMatchObject({ fileType: 'application/vnd.apache.parquet', status: 'COMPLETE' });
    const by = Object.fromEntries(r.detections.map((d) => [d.type, d]));
    expect(by['USA_SOCIAL_SECURITY_NUMBER']).toMatchObject({ count: 2, occurrences: { records: [{ recordIndex: 0, jsonPath: '$.ssn' }, { recordIndex: 2, jsonPath: '$.ssn' }] } });
    expect(by['CREDIT_CARD_NUMBER']).toMatchObject({ count: 1, occurrences: { records: [{ recordIndex: 2, jsonPath: '$.card' }] } });
    expect(await scanObject('broken.parquet', enc('PAR1 not really'), ALL)).toMatchObject({ status: 'SKIPPED', skipped: 'UNABLE_TO_PARSE_FILE' });
  });

  it('XLSX: cells with Sheet!A1 references and header names', async () => {
    const xlsx = zipSync({
      '[Content_Types].xml': strToU8('<Types/>'),
      'xl/workbook.xml': strToU8('<workbook xmlns:r="r"><sheets><sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>'),
      'xl/_rels/workbook.xml.rels': strToU8('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
      'xl/sharedStrings.xml': strToU8(`<sst><si><t>Name</t></si><si><t>Card</t></si><si><r><t>Ann</t></r><r><t xml:space="preserve"> Lee</t></r></si><si><t>${VISA}</t></si></sst>`),
      'xl/worksheets/sheet1.xml': strToU8('<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="inlineStr"><is><t>z@example.com</t></is></c></row></sheetData></worksheet>'),
    });
    const r = await scanObject('book.xlsx', xlsx, ALL);
    expect(r.fileType).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const by = Object.fromEntries(r.detections.map((d) => [d.type, d.occurrences]));
    expect(by['CREDIT_CARD_NUMBER']).toEqual({ cells: [{ row: 2, column: 2, columnName: 'Card', cellReference: 'Customers!B2' }] });
    expect(by['EMAIL_ADDRESS']).toEqual({ cells: [{ row: 2, column: 3, cellReference: 'Customers!C2' }] });
  });

  it('DOCX: paragraphs become lines', async () => {
    const docx = zipSync({
      '[Content_Types].xml': strToU8('<Types/>'),
      'word/document.xml': strToU8(`<w:document><w:body><w:p><w:r><w:t>Dear customer,</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">your visa </w:t></w:r><w:r><w:t>${VISA}</w:t></w:r></w:p></w:body></w:document>`),
    });
    const r = await scanObject('letter.docx', docx, ALL);
    expect(r.fileType).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(r.detections[0]).toMatchObject({ type: 'CREDIT_CARD_NUMBER', occurrences: { lineRanges: [{ start: 2, end: 2, startColumn: 11 }] } });
  });

  it('skips what it cannot read, with Macie\'s reason codes', async () => {
    expect(await scanObject('a.pdf', enc('%PDF-1.7\n...'), ALL)).toMatchObject({ status: 'SKIPPED', skipped: 'UNSUPPORTED_FILE_TYPE_EXCEPTION', fileType: 'application/pdf' });
    expect(await scanObject('a.bin', new Uint8Array([1, 0, 2, 0, 3]), ALL)).toMatchObject({ status: 'SKIPPED', skipped: 'UNSUPPORTED_FILE_TYPE_EXCEPTION' });
    expect(await scanObject('a.zip', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 9, 9, 9]), ALL)).toMatchObject({ status: 'SKIPPED', skipped: 'MALFORMED_FILE' });
    const bad = await scanObject('a.json', enc('{"ssn": "219-45-6789",'), ALL);
    expect(bad).toMatchObject({ status: 'PARTIAL', skipped: 'UNABLE_TO_PARSE_FILE' });
    expect(bad.detections.map((d) => d.type)).toEqual(['USA_SOCIAL_SECURITY_NUMBER']);
  });
});

describe('hostile files: limits hold on real sizes, not declared ones', () => {
  /** Runs `f` with smaller limits (so a bomb stays cheap to build), then restores them. */
  async function withLimits<T>(l: Partial<typeof LIMITS>, f: () => Promise<T>): Promise<T> {
    const saved = { ...LIMITS };
    Object.assign(LIMITS, l);
    try {
      return await f();
    } finally {
      Object.assign(LIMITS, saved);
    }
  }
  const MiB = 1024 * 1024;
  const zeros = (n: number) => new Uint8Array(n);
  /** A little-endian uint32 written over `b` at `o`. */
  const put32 = (b: Uint8Array, o: number, v: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(o, v, true);

  it('gzip: a bomb whose ISIZE lies is stopped at the limit and skipped, not expanded', async () => {
    const bomb = gzipSync(zeros(8 * MiB));
    put32(bomb, bomb.length - 4, 100); // declares 100 bytes
    resetWork();
    const r = await withLimits({ maxObjectBytes: MiB }, () => scanObject('bomb.txt.gz', bomb, ALL));
    expect(r).toMatchObject({ status: 'SKIPPED', skipped: 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT', sizeClassified: 0 });
    expect(work.inflatedBytes).toBe(0);
    // within the limits the same path works
    const ok = await withLimits({ maxObjectBytes: MiB }, () => scanObject('x.txt.gz', gzipSync(strToU8('SSN 219-45-6789')), ALL));
    expect(ok.detections.map((d) => d.type)).toEqual(['USA_SOCIAL_SECURITY_NUMBER']);
  });

  it('ZIP: a member whose declared sizes lie is skipped as oversize; the other members are analysed', async () => {
    const zip = zipSync({ 'big.txt': zeros(8 * MiB), 'ssn.txt': strToU8('SSN 219-45-6789') });
    // declare 100 bytes for big.txt in its local header and in the central directory
    const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let i = 0; i + 4 <= zip.length; i++) {
      const sig = dv.getUint32(i, true);
      if (sig === 0x04034b50 && new TextDecoder().decode(zip.subarray(i + 30, i + 37)) === 'big.txt') put32(zip, i + 22, 100);
      if (sig === 0x02014b50 && new TextDecoder().decode(zip.subarray(i + 46, i + 53)) === 'big.txt') put32(zip, i + 24, 100);
    }
    resetWork();
    const r = await withLimits({ maxObjectBytes: MiB }, () => scanObject('dump.zip', zip, ALL));
    expect(r.status).toBe('PARTIAL');
    expect(r.skipped).toBe('ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT');
    expect(r.files!.map((f) => [f.name, f.status, f.skipped])).toEqual([['big.txt', 'SKIPPED', 'FILE_SIZE_LIMIT_EXCEEDED'], ['ssn.txt', 'COMPLETE', undefined]]);
    expect(r.detections.map((d) => d.type)).toEqual(['USA_SOCIAL_SECURITY_NUMBER']);
    expect(work.inflatedBytes).toBeLessThanOrEqual(MiB);
  });

  it('ZIP: the archive total is counted from real output; members past it are skipped', async () => {
    const spaces = (n: number) => new Uint8Array(n).fill(0x20);
    const zip = zipSync({ 'a.txt': spaces(600 * 1024), 'b.txt': spaces(600 * 1024), 'c.txt': strToU8('small') });
    resetWork();
    const r = await withLimits({ maxObjectBytes: MiB, maxExtractedBytes: MiB }, () => scanObject('t.zip', zip, ALL));
    expect(r.files!.map((f) => [f.name, f.status, f.skipped])).toEqual([
      ['a.txt', 'COMPLETE', undefined], ['b.txt', 'SKIPPED', 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT'], ['c.txt', 'COMPLETE', undefined],
    ]);
    expect(r).toMatchObject({ status: 'PARTIAL', skipped: 'ARCHIVE_TOTAL_BYTES_EXTRACTED_OVER_LIMIT' });
    expect(work.inflatedBytes).toBeLessThanOrEqual(MiB);
  });

  it('XLSX: rows and columns the file claims out of bounds or out of order are not believed', async () => {
    const xlsx = zipSync({
      'xl/workbook.xml': strToU8('<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
      'xl/_rels/workbook.xml.rels': strToU8('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
      'xl/worksheets/sheet1.xml': strToU8('<worksheet><sheetData>'
        + '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Card</t></is></c></row>'
        + `<row r="-7"><c r="A-7" t="inlineStr"><is><t>ann</t></is></c><c r="B-7" t="inlineStr"><is><t>${VISA}</t></is></c></row>`
        + '<row r="4000000000"><c r="ZZZZ4000000000" t="inlineStr"><is><t>z@example.com</t></is></c></row>'
        + '<row r="9"><c r="C9" t="inlineStr"><is><t>y@example.com</t></is></c></row>'
        + '<row r="5"><c r="A5" t="inlineStr"><is><t>x@example.com</t></is></c></row>'
        + '</sheetData></worksheet>'),
    });
    const r = await scanObject('book.xlsx', xlsx, ALL);
    const by = Object.fromEntries(r.detections.map((d) => [d.type, d.occurrences]));
    expect(by['CREDIT_CARD_NUMBER']).toEqual({ cells: [{ row: 2, column: 2, columnName: 'Card', cellReference: 'S!B2' }] });
    expect(by['EMAIL_ADDRESS']).toEqual({ cells: [
      { row: 3, column: 1, columnName: 'Name', cellReference: 'S!A3' }, // r="4000000000", column ZZZZ: the next row, first column
      { row: 9, column: 3, cellReference: 'S!C9' }, // in bounds and in order: as declared
      { row: 10, column: 1, columnName: 'Name', cellReference: 'S!A10' }, // r="5" after row 9: the next row
    ] });
    for (const c of by['EMAIL_ADDRESS']!.cells!) expect(c.row).toBeLessThanOrEqual(LIMITS.maxXlsxRows);
  });

  it('JSON Lines: a record nested past the limit fails that object only, with a reason', async () => {
    const deep = '['.repeat(LIMITS.maxJsonDepth + 10) + '1' + ']'.repeat(LIMITS.maxJsonDepth + 10);
    const r = await scanObject('deep.jsonl', enc(`{"ssn":"219-45-6789"}\n${deep}\n`), ALL);
    expect(r).toMatchObject({ fileType: 'application/jsonl', status: 'SKIPPED', skipped: 'JSON_NESTING_LEVEL_OVER_LIMIT' });
    // inside an archive: that member is skipped, the others are analysed
    const z = await scanObject('a.zip', zipSync({ 'deep.jsonl': strToU8(deep), 'ok.jsonl': strToU8('{"ssn":"219-45-6789"}') }), ALL);
    expect(z.files!.map((f) => [f.name, f.status, f.skipped])).toEqual([['deep.jsonl', 'SKIPPED', 'JSON_NESTING_LEVEL_OVER_LIMIT'], ['ok.jsonl', 'COMPLETE', undefined]]);
    expect(z.detections.map((d) => d.type)).toEqual(['USA_SOCIAL_SECURITY_NUMBER']);
  });
});
