// `seclab ledger …` as a user runs it: `node bin/seclab.js` in a child process, on a log in a folder.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { entriesPath, formatEntryBundle, parseEntryBundle } from '../../src/controls/ledger/tiles.ts';
import { Ledger, checkpointText } from '../../src/controls/ledger/log.ts';
import { FsStore } from '../../src/controls/ledger/store.ts';
import { encodeEntry } from '../../src/controls/ledger/entry.ts';
import { addSignatures, ed25519Signer, generateEd25519Key, signNote, splitNote } from '../../src/controls/ledger/note.ts';
import { cosigner } from '../../src/controls/ledger/cosignature.ts';
import { tmpDir } from './fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/seclab.js', import.meta.url));

function seclab(args: string[], opts: { input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = tmpDir('seclab-home-');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tmpDir(),
    env: { PATH: process.env['PATH'] ?? '', HOME: home, SECLAB_CACHE_DIR: path.join(home, 'cache'), NO_COLOR: '1' },
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const ORIGIN = 'example.com/cli-ledger';

async function newLog(n: number) {
  const dir = tmpDir('seclab-ledger-');
  const keyFile = path.join(dir, 'log.key');
  const kg = await seclab(['ledger', 'keygen', ORIGIN, '--out', keyFile]);
  expect(kg.code).toBe(0);
  const vkey = kg.stdout.trim();
  const log = path.join(dir, 'log');
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ z: i, a: `event ${i}` })).join('\n');
  const input = path.join(dir, 'events.jsonl');
  writeFileSync(input, `${lines}\n`);
  const ap = await seclab(['ledger', 'append', log, input, '--key', keyFile, '--json']);
  expect(ap.code, ap.stderr).toBe(0);
  return { dir, keyFile, vkey, log, input };
}

describe.concurrent('seclab ledger', () => {
  it('keygen: a Go-format vkey on stdout, the skey in a 0600 file; never overwrites', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'k');
    const r = await seclab(['ledger', 'keygen', ORIGIN, '--out', file]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^example\.com\/cli-ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^PRIVATE\+KEY\+example\.com\/cli-ledger\+/);
    const again = await seclab(['ledger', 'keygen', ORIGIN, '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists: not overwriting/);
    expect((await seclab(['ledger', 'keygen', 'two words'])).code).toBe(2);
  });

  it('append, verify, audit and prove an untouched log', async () => {
    const l = await newLog(300);
    const v = await seclab(['ledger', 'verify', l.log, '--vkey', l.vkey]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/checkpoint size 300, 300 entries read.*no discrepancy/);
    const vkeyFile = path.join(l.dir, 'vkeys.txt');
    writeFileSync(vkeyFile, `# the log\n${l.vkey}\n`);
    const a = await seclab(['ledger', 'audit', l.log, '--vkey', vkeyFile, '--json']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ ok: true, origin: ORIGIN, size: 300, entries: 300, discrepancies: [] });
    const p = await seclab(['ledger', 'prove', l.log, '--vkey', l.vkey, '--index', '257', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const proof = JSON.parse(p.stdout) as { verified: boolean; proof: string[]; index: number };
    expect(proof).toMatchObject({ verified: true, index: 257 });
    expect(proof.proof.length).toBe(7); // PATH(257, D[0:300]): 5 inside [256,288), [288,300), [0,256)
    const entryFile = path.join(l.dir, 'e.json');
    writeFileSync(entryFile, '{"a":"event 12","z":12}'); // the canonical form that was logged
    expect(JSON.parse((await seclab(['ledger', 'prove', l.log, '--vkey', l.vkey, '--entry', entryFile, '--json'])).stdout)).toMatchObject({ index: 12, verified: true });
    writeFileSync(entryFile, '{"a":"event 12","z":13}');
    expect((await seclab(['ledger', 'prove', l.log, '--vkey', l.vkey, '--entry', entryFile])).code).toBe(1);
    expect(JSON.parse((await seclab(['ledger', 'prove', l.log, '--vkey', l.vkey, '--old', '100', '--json'])).stdout)).toMatchObject({ oldSize: 100, size: 300, verified: true });
  });

  it('an edited entry: exit 1 with its kind and position, text and JSON', async () => {
    const l = await newLog(20);
    const file = path.join(l.log, ...entriesPath(0, 20).split('/'));
    const entries = parseEntryBundle(readFileSync(file));
    entries[7] = Buffer.from('{"a":"nothing happened","z":7}');
    writeFileSync(file, formatEntryBundle(entries));
    const t = await seclab(['ledger', 'verify', l.log, '--vkey', l.vkey]);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/1 discrepancy/);
    expect(t.stdout).toMatch(/edited-entry at entry 7: entry 7 no longer hashes/);
    const j = await seclab(['ledger', 'audit', l.log, '--vkey', l.vkey, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, discrepancies: [{ kind: 'edited-entry', index: 7 }] });
  });

  it('verify --checkpoint: a checkpoint kept earlier catches a truncation; another key: unknown-key', async () => {
    const l = await newLog(5);
    const kept = path.join(l.dir, 'kept.note');
    writeFileSync(kept, readFileSync(path.join(l.log, 'checkpoint')));
    const older = tmpDir();
    // The same log with only 3 entries, put in place of the longer one.
    const lines = readFileSync(l.input, 'utf8').split('\n').slice(0, 3).join('\n');
    writeFileSync(path.join(older, 'e.jsonl'), lines);
    const o = await seclab(['ledger', 'append', path.join(older, 'log'), path.join(older, 'e.jsonl'), '--key', l.keyFile]);
    expect(o.code).toBe(0);
    writeFileSync(path.join(l.log, 'checkpoint'), readFileSync(path.join(older, 'log', 'checkpoint')));
    const r = await seclab(['ledger', 'verify', l.log, '--vkey', l.vkey, '--checkpoint', kept, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).discrepancies).toMatchObject([{ kind: 'truncated', index: 3 }]);
    const other = (await seclab(['ledger', 'keygen', ORIGIN])).stdout.split('\n')[0]!;
    const u = await seclab(['ledger', 'verify', l.log, '--vkey', other, '--json']);
    expect(u.code).toBe(1);
    expect(JSON.parse(u.stdout).discrepancies.map((d: { kind: string }) => d.kind)).toEqual(['unknown-key']);
  });

  it('append reads stdin and keeps non-JSON lines as they are', async () => {
    const dir = tmpDir();
    const key = path.join(dir, 'k');
    const vkey = (await seclab(['ledger', 'keygen', 'stdin.example/log', '--out', key])).stdout.trim();
    const r = await seclab(['ledger', 'append', path.join(dir, 'log'), '--key', key, '--json'], { input: 'plain text line\n{"b":1, "a":2}\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ origin: 'stdin.example/log', first: 0, size: 2, appended: 2 });
    const bundle = parseEntryBundle(readFileSync(path.join(dir, 'log', ...entriesPath(0, 2).split('/'))));
    expect(bundle.map(String)).toEqual(['plain text line', '{"a":2,"b":1}']);
    expect((await seclab(['ledger', 'verify', path.join(dir, 'log'), '--vkey', vkey])).code).toBe(0);
  });

  it('audit with witness keys, witnessed notes, anchors, a trail copy and app events', async () => {
    const dir = tmpDir('seclab-ledger-audit-');
    const log = generateEd25519Key('northwind.example/ledger');
    const wit = generateEd25519Key('witness.example');
    const ledger = await Ledger.open(new FsStore(path.join(dir, 'log')), { origin: 'northwind.example/ledger' });
    const events = Array.from({ length: 12 }, (_, i) => ({ eventID: `e${i}`, eventTime: `2026-12-08T01:00:${String(i).padStart(2, '0')}Z`, eventSource: 's3.amazonaws.com', eventName: 'GetObject', eventCategory: 'Data', managementEvent: false }));
    const app = { id: 'a1', time: '2026-12-08T01:00:30Z', action: 'update', record: 'customer-7' };
    await ledger.append([
      ...events.map((e) => encodeEntry({ v: 1, kind: 'cloudtrail', source: { type: 'cloudtrail', eventID: e.eventID, eventSource: e.eventSource, eventName: e.eventName }, time: e.eventTime, event: e })),
      encodeEntry({ v: 1, kind: 'app', source: { type: 'app-audit', logGroup: '/app/audit', logStream: 's', id: app.id }, time: app.time, event: app }),
    ]);
    const note = await ledger.checkpoint([ed25519Signer(log.skey)]);
    const cosigned = addSignatures(note, splitNote(await signNote(checkpointText(note), [cosigner(wit.skey, () => Date.now())])).lines);
    writeFileSync(path.join(dir, 'log', 'checkpoint'), cosigned);
    writeFileSync(path.join(dir, 'witnessed.note'), cosigned);
    mkdirSync(path.join(dir, 'anchors'));
    writeFileSync(path.join(dir, 'anchors', '000000000013'), cosigned);
    const trailDir = path.join(dir, 'trail', 'AWSLogs', '111111111111', 'CloudTrail', 'us-east-1');
    mkdirSync(trailDir, { recursive: true });
    writeFileSync(path.join(trailDir, 'a.json.gz'), gzipSync(JSON.stringify({ Records: events.slice(0, 6) })));
    writeFileSync(path.join(trailDir, 'b.json.gz'), gzipSync(JSON.stringify({ Records: events.slice(6) })));
    writeFileSync(path.join(dir, 'app.json'), JSON.stringify([{ id: 'cw-1', logGroup: '/app/audit', logStream: 's', time: app.time, message: JSON.stringify(app) }]));
    const args = ['ledger', 'audit', path.join(dir, 'log'), '--vkey', log.vkey, '--witness-vkey', wit.vkey, '--witnessed', path.join(dir, 'witnessed.note'),
      '--anchors', path.join(dir, 'anchors'), '--trail', path.join(dir, 'trail'), '--app-events', path.join(dir, 'app.json'), '--json'];
    const ok = await seclab(args);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, size: 13, witnessedSize: 13, entries: 13 });
    rmSync(path.join(trailDir, 'b.json.gz'));
    const bad = await seclab(args);
    expect(bad.code).toBe(1);
    const r = JSON.parse(bad.stdout) as { discrepancies: { kind: string; index: number }[] };
    expect(r.discrepancies.map((d) => [d.kind, d.index])).toEqual([6, 7, 8, 9, 10, 11].map((i) => ['source-log-missing', i]));
    // Without the witness key, the checkpoint still verifies; requiring one witness that is not pinned fails usage.
    expect((await seclab(['ledger', 'audit', path.join(dir, 'log'), '--vkey', log.vkey, '--quorum', '1'])).code).toBe(2);
  });

  it('bad input: clear errors and exit 2', async () => {
    const l = await newLog(3);
    const cases: [string[], RegExp][] = [
      [['ledger', 'verify', path.join(l.dir, 'nope'), '--vkey', l.vkey], /no such log folder/],
      [['ledger', 'verify', l.log], /give --vkey/],
      [['ledger', 'verify', l.log, '--vkey', 'not+a+key'], /not a valid vkey/],
      [['ledger', 'verify', l.log, '--vkey', readFileSync(l.keyFile, 'utf8').trim()], /private key/],
      [['ledger', 'audit', l.log, '--vkey', l.vkey, '--witnessed', l.input], /is not a signed note/],
      [['ledger', 'audit', l.log, '--vkey', l.vkey, '--witnessed', path.join(l.dir, 'missing.note')], /no such file/],
      [['ledger', 'audit', l.log, '--vkey', l.vkey, '--app-events', l.keyFile], /not JSON/],
      [['ledger', 'audit', l.log, '--vkey', l.vkey, '--quorum', '2'], /--quorum/],
      [['ledger', 'append', l.log, l.input, '--key', path.join(l.dir, 'missing.key')], /--key: no such file/],
      [['ledger', 'append', l.log, l.input, '--key', l.input], /not an Ed25519 signing key/],
      [['ledger', 'prove', l.log, '--vkey', l.vkey, '--index', '3'], /--index must be an entry from 0 to 2/],
      [['ledger', 'prove', l.log, '--vkey', l.vkey], /exactly one of/],
    ];
    for (const [args, msg] of cases) {
      const r = await seclab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
    const j = await seclab(['ledger', 'verify', l.log, '--vkey', 'bad', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { kind: 'usage', message: expect.stringMatching(/not a valid vkey/) } });
  });
});
