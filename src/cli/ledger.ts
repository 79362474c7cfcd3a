// `seclab ledger keygen|append|verify|prove|audit`: the tamper-evident ledger (src/controls/ledger,
// docs/ledger.md) on a log kept in a local folder (tlog-tiles layout: `checkpoint`, `tile/…`), e.g. a
// copy of the lab's ledger bucket (`aws s3 sync s3://<bucket> dir`). Exit 1 when a check fails or the
// audit finds a discrepancy.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';
import type { AppEvent, AuditReport, Discrepancy } from '../controls/ledger/audit.ts';

type Run = (action: (ui: Ui) => Promise<number>, json: boolean) => void;

export interface LedgerOptions {
  json?: boolean;
  key?: string;
  origin?: string;
  out?: string;
  vkey?: string[];
  witnessVkey?: string[];
  quorum?: string;
  checkpoint?: string[];
  witnessed?: string[];
  anchors?: string;
  trail?: string;
  appEvents?: string;
  index?: string;
  entry?: string;
  old?: string;
  raw?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerLedger(program: Command, run: Run): void {
  const ledger = program.command('ledger').description('the tamper-evident audit ledger: an RFC 9162 Merkle log as C2SP tlog-tiles with signed, witnessed checkpoints (docs/ledger.md)');
  const opts = (cmd: Command) => cmd.optsWithGlobals() as LedgerOptions;
  const json = (c: Command) => c.option('--json', 'machine-readable output on stdout (no colors)');
  const trust = (c: Command) => c
    .option('--vkey <vkey|file>', 'the log\'s verifier key (a vkey, or a file of vkeys one per line; repeatable): the pinned trust root', collect)
    .option('--origin <origin>', 'the log\'s origin (default: the name of the first log key)');

  json(ledger.command('keygen'))
    .argument('<name>', 'the key\'s name (for a log: its origin, e.g. example.com/audit)')
    .option('-o, --out <file>', 'write the private key (skey) there, mode 0600 (default: print it)')
    .description('make an Ed25519 signing key in Go\'s note format: prints the vkey (and the skey without --out)')
    .action((name: string, _o, cmd: Command) => run((ui) => cmdKeygen(ui, name, opts(cmd)), !!opts(cmd).json));

  json(ledger.command('append'))
    .argument('<dir>', 'the log folder (created when missing)')
    .argument('[files...]', 'JSON Lines files: each non-empty line is one entry (valid JSON is logged as its RFC 8785 canonical form); - or none reads stdin')
    .requiredOption('-k, --key <file>', 'the log\'s signing key (skey file from `seclab ledger keygen --out`)')
    .option('--origin <origin>', 'the log\'s origin (default: the key\'s name)')
    .option('--raw', 'log each line\'s bytes as they are (no JSON canonicalization)')
    .description('append entries and sign a new checkpoint')
    .action((dir: string, files: string[], _o, cmd: Command) => run((ui) => cmdAppend(ui, dir, files, opts(cmd)), !!opts(cmd).json));

  json(trust(ledger.command('verify')))
    .argument('<dir>', 'the log folder')
    .option('--checkpoint <file>', 'a signed checkpoint you kept earlier (repeatable): the log must still be consistent with it', collect)
    .description('replay the whole log (every entry, tile and the signed root) and check it against checkpoints you kept; exit 1 on any discrepancy')
    .action((dir: string, _o, cmd: Command) => run((ui) => cmdAudit(ui, dir, { ...opts(cmd), witnessed: opts(cmd).checkpoint }, 'verify'), !!opts(cmd).json));

  json(trust(ledger.command('prove')))
    .argument('<dir>', 'the log folder')
    .option('--index <n>', 'inclusion proof of entry n')
    .option('--entry <file>', 'inclusion proof of the entry with these exact bytes (found by a scan)')
    .option('--old <size>', 'consistency proof from the tree of this size to the current one')
    .description('print an inclusion or consistency proof against the log\'s verified checkpoint, and check it')
    .action((dir: string, _o, cmd: Command) => run((ui) => cmdProve(ui, dir, opts(cmd)), !!opts(cmd).json));

  json(trust(ledger.command('audit')))
    .argument('<dir>', 'the log folder')
    .option('--witness-vkey <vkey|file>', 'a witness\'s cosigner vkey (0x04, or its Ed25519 vkey; repeatable)', collect)
    .option('--quorum <n>', 'witness cosignatures a checkpoint needs (default 1 when witness keys are given)')
    .option('--witnessed <file>', 'a witnessed (cosigned) checkpoint note, e.g. the witness\'s latest (repeatable)', collect)
    .option('--anchors <dir>', 'a copy of the Object Lock anchor bucket: every file is a checkpoint note')
    .option('--trail <dir>', 'a copy of the CloudTrail bucket (AWSLogs/<account>/CloudTrail/…json.gz)')
    .option('--app-events <file>', 'the app\'s audit events: JSON array (or JSON Lines) of {id, logGroup, logStream, time, message}')
    .description('the full audit: replay, signatures, witnesses, anchors and source logs; every discrepancy with its position; exit 1 when any')
    .action((dir: string, _o, cmd: Command) => run((ui) => cmdAudit(ui, dir, opts(cmd), 'audit'), !!opts(cmd).json));
}

// ---- helpers ----

function readText(file: string, what: string): string {
  if (!existsSync(file)) throw new UsageError(`${what}: no such file: ${file}`);
  if (!statSync(file).isFile()) throw new UsageError(`${what}: ${file} is not a file`);
  return readFileSync(file, 'utf8');
}

function logDir(dir: string): string {
  const abs = path.resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UsageError(`no such log folder: ${dir}`, 'give the folder that holds the log\'s `checkpoint` and `tile/` (e.g. `aws s3 sync s3://<ledger-bucket> <dir>`)');
  return abs;
}

/** Vkeys given literally or as files (one per line, # comments). */
async function vkeys(values: string[] | undefined, what: string, convert?: (v: string) => string): Promise<string[]> {
  const note = await import('../controls/ledger/note.ts');
  const out: string[] = [];
  for (const v of values ?? []) {
    const lines = existsSync(v) && statSync(v).isFile() ? readFileSync(v, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : [v.trim()];
    if (!lines.length) throw new UsageError(`${what} ${v}: the file holds no key`);
    for (const l of lines) {
      if (l.startsWith('PRIVATE+KEY+')) throw new UsageError(`${what}: that is a private key (skey); give the verifier key (vkey)`, 'the vkey is printed by `seclab ledger keygen`');
      try {
        const k = convert ? convert(l) : l;
        note.verifierFromVkey(k);
        out.push(k);
      } catch (e) {
        throw new UsageError(`${what} ${JSON.stringify(l.slice(0, 80))} is not a valid vkey: ${(e as Error).message}`, 'a vkey looks like <name>+<8 hex digits>+<base64>');
      }
    }
  }
  return out;
}

async function trustOf(dir: string, o: LedgerOptions) {
  const logVkeys = await vkeys(o.vkey, '--vkey');
  if (!logVkeys.length) throw new UsageError('which key signs this log? give --vkey <vkey or file>', 'the audit trusts only the keys you pin, never the log\'s own bucket');
  const note = await import('../controls/ledger/note.ts');
  const { cosignatureVkey } = await import('../controls/ledger/cosignature.ts');
  const witnessVkeys = await vkeys(o.witnessVkey, '--witness-vkey', (v) => cosignatureVkey(v));
  let quorum: number | undefined;
  if (o.quorum !== undefined) {
    quorum = Number(o.quorum);
    if (!Number.isInteger(quorum) || quorum < 0 || quorum > witnessVkeys.length) throw new UsageError(`--quorum must be a whole number from 0 to the number of witness keys (${witnessVkeys.length}); got "${o.quorum}"`);
  }
  const origin = o.origin ?? note.parseVkey(logVkeys[0]!).name;
  void dir;
  return { origin, logVkeys, witnessVkeys, ...(quorum !== undefined ? { witnessQuorum: quorum } : {}) };
}

/** Note files, checked for shape so a malformed one is a usage error, not a finding. */
async function noteFiles(files: string[] | undefined, what: string): Promise<string[]> {
  const { splitNote } = await import('../controls/ledger/note.ts');
  return (files ?? []).map((f) => {
    const text = readText(f, what);
    try {
      splitNote(text);
    } catch (e) {
      throw new UsageError(`${what} ${f} is not a signed note: ${(e as Error).message}`, 'a checkpoint note is the text (origin, size, root), a blank line, then "— <name> <signature>" lines');
    }
    return text;
  });
}

function appEvents(file: string): AppEvent[] {
  const text = readText(file, '--app-events').trim();
  let list: unknown;
  try {
    list = text.startsWith('[') ? JSON.parse(text) : text.split(/\r?\n/).filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
  } catch (e) {
    throw new UsageError(`--app-events ${file} is not JSON or JSON Lines: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) throw new UsageError(`--app-events ${file}: expected a JSON array of events`);
  return list.map((x, i) => {
    const r = x as Record<string, unknown>;
    for (const k of ['id', 'message']) if (typeof r?.[k] !== 'string') throw new UsageError(`--app-events ${file}: event ${i + 1} has no string "${k}"`, 'each event: {"id", "logGroup", "logStream", "time", "message"}');
    return { id: String(r['id']), logGroup: String(r['logGroup'] ?? ''), logStream: String(r['logStream'] ?? ''), time: String(r['time'] ?? ''), message: String(r['message']) };
  });
}

// ---- commands ----

export async function cmdKeygen(ui: Ui, name: string, o: LedgerOptions): Promise<number> {
  const note = await import('../controls/ledger/note.ts');
  if (!note.isValidKeyName(name)) throw new UsageError(`"${name}" cannot be a key name: it must be non-empty, without spaces or '+'`);
  const { skey, vkey } = note.generateEd25519Key(name);
  if (o.out) {
    if (existsSync(o.out)) throw new UsageError(`${o.out} exists: not overwriting a key`, 'choose another --out file or remove it');
    writeFileSync(o.out, `${skey}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(o.out, 0o600);
  }
  if (ui.json) ui.print(JSON.stringify({ name, vkey, ...(o.out ? { skeyFile: path.resolve(o.out) } : { skey }) }, null, 2));
  else {
    ui.print(vkey);
    if (!o.out) ui.print(skey);
    else ui.info(`private key written to ${o.out} (mode 0600); the line above is the verifier key to pin`);
  }
  return ExitCode.OK;
}

export async function cmdAppend(ui: Ui, dir: string, files: string[], o: LedgerOptions): Promise<number> {
  const note = await import('../controls/ledger/note.ts');
  const skey = readText(o.key!, '--key').trim();
  let signer;
  try {
    signer = note.ed25519Signer(skey);
  } catch (e) {
    throw new UsageError(`--key ${o.key} is not an Ed25519 signing key: ${(e as Error).message}`, 'make one with `seclab ledger keygen <origin> --out <file>`');
  }
  const origin = o.origin ?? signer.name;
  const inputs = files.length ? files : ['-'];
  const entries: Buffer[] = [];
  const { canonicalJson } = await import('../controls/ledger/entry.ts');
  for (const f of inputs) {
    const data = f === '-' ? readFileSync(0) : Buffer.from(readText(f, 'entries'), 'utf8');
    const text = (f.endsWith('.gz') ? gunzipSync(data) : data).toString('utf8');
    for (const [i, line] of text.split(/\r?\n/).entries()) {
      if (!line.trim()) continue;
      let bytes = Buffer.from(line, 'utf8');
      if (!o.raw) {
        try {
          bytes = Buffer.from(canonicalJson(JSON.parse(line)), 'utf8');
        } catch { /* not JSON: its bytes */ }
      }
      if (bytes.length > 0xffff) throw new UsageError(`${f}:${i + 1}: an entry is at most 65535 bytes (tlog-tiles), this one is ${bytes.length}`, 'log a digest of large records instead');
      entries.push(bytes);
    }
  }
  const { FsStore } = await import('../controls/ledger/store.ts');
  const { Ledger } = await import('../controls/ledger/log.ts');
  const abs = path.resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const ledger = await Ledger.open(new FsStore(abs), { origin });
  if (ledger.origin !== origin) throw new UsageError(`the log in ${dir} is ${ledger.origin}, not ${origin}`);
  const { first, size } = entries.length ? await ledger.append(entries) : { first: ledger.size, size: ledger.size };
  const cp = await ledger.checkpoint([signer]);
  if (ui.json) ui.print(JSON.stringify({ origin, first, size, appended: entries.length, checkpoint: cp }, null, 2));
  else {
    ui.print(`appended ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} to ${origin} (${first}–${size - 1}); new size ${size}`);
    ui.print(cp.trimEnd());
  }
  return ExitCode.OK;
}

export async function cmdProve(ui: Ui, dir: string, o: LedgerOptions): Promise<number> {
  const abs = logDir(dir);
  const t = await trustOf(abs, o);
  const note = await import('../controls/ledger/note.ts');
  const { parseCheckpoint } = await import('../controls/ledger/checkpoint.ts');
  const { FsStore } = await import('../controls/ledger/store.ts');
  const { Ledger } = await import('../controls/ledger/log.ts');
  const tree = await import('../controls/ledger/tree.ts');
  const { leafHash } = await import('../controls/ledger/hash.ts');
  if ([o.index, o.entry, o.old].filter((x) => x !== undefined).length !== 1) throw new UsageError('give exactly one of --index <n>, --entry <file> or --old <size>');
  const store = new FsStore(abs);
  const raw = await store.get('checkpoint');
  if (!raw) throw new UsageError(`${dir} has no checkpoint`, 'is it a log folder?');
  let cp;
  try {
    cp = parseCheckpoint(note.openNote(raw.toString('utf8'), t.logVkeys.map(note.verifierFromVkey)).text);
  } catch (e) {
    ui.error(`the log's checkpoint does not verify with the pinned key: ${(e as Error).message}`, 'run `seclab ledger audit` to see why');
    return ExitCode.FAILED;
  }
  if (cp.origin !== t.origin) throw new UsageError(`the log is ${cp.origin}, not ${t.origin}`, 'give --origin');
  const ledger = await Ledger.open(store, { origin: cp.origin });
  const b64 = (hs: Buffer[]) => hs.map((h) => h.toString('base64'));
  let result: Record<string, unknown>;
  let ok: boolean;
  if (o.old !== undefined) {
    const old = Number(o.old);
    if (!Number.isInteger(old) || old < 0 || old > cp.size) throw new UsageError(`--old must be a size from 0 to ${cp.size}; got "${o.old}"`);
    const proof = await ledger.consistencyProof(old, cp.size);
    const oldRoot = await tree.treeRoot(old, ledger.nodeReader());
    ok = tree.verifyConsistency(old, cp.size, proof, oldRoot, cp.root);
    result = { origin: cp.origin, oldSize: old, oldRoot: oldRoot.toString('base64'), size: cp.size, root: cp.root.toString('base64'), proof: b64(proof), verified: ok };
  } else {
    let index: number;
    let bytes: Buffer | undefined;
    if (o.index !== undefined) {
      index = Number(o.index);
      if (!Number.isInteger(index) || index < 0 || index >= cp.size) throw new UsageError(`--index must be an entry from 0 to ${cp.size - 1}; got "${o.index}"`);
    } else {
      bytes = Buffer.from(readText(o.entry!, '--entry').replace(/\r?\n$/, ''), 'utf8');
      index = -1;
      for (let i = 0; i < cp.size && index < 0; i++) if ((await ledger.entry(i)).equals(bytes)) index = i;
      if (index < 0) {
        if (ui.json) ui.print(JSON.stringify({ origin: cp.origin, size: cp.size, found: false }, null, 2));
        else ui.print(`${ui.out.mark(false)} that entry is not in ${cp.origin} (${cp.size} entries scanned)`);
        return ExitCode.FAILED;
      }
    }
    const leaf = leafHash(bytes ?? (await ledger.entry(index)));
    const proof = await ledger.inclusionProof(index, cp.size);
    ok = tree.verifyInclusion(leaf, index, cp.size, proof, cp.root);
    result = { origin: cp.origin, index, size: cp.size, root: cp.root.toString('base64'), leafHash: leaf.toString('base64'), proof: b64(proof), verified: ok };
  }
  if (ui.json) ui.print(JSON.stringify(result, null, 2));
  else {
    for (const [k, v] of Object.entries(result)) ui.print(`${k}: ${Array.isArray(v) ? (v.length ? `\n  ${v.join('\n  ')}` : '(none)') : String(v)}`);
    ui.print(`${ui.out.mark(ok)} ${ok ? 'the proof verifies against the signed checkpoint' : 'the proof does NOT verify: the tiles do not match the signed checkpoint (run `seclab ledger audit`)'}`);
  }
  return ok ? ExitCode.OK : ExitCode.FAILED;
}

export async function cmdAudit(ui: Ui, dir: string, o: LedgerOptions, what: 'audit' | 'verify'): Promise<number> {
  const abs = logDir(dir);
  const t = await trustOf(abs, o);
  const witnessed = await noteFiles(o.witnessed, what === 'verify' ? '--checkpoint' : '--witnessed');
  const { FsStore } = await import('../controls/ledger/store.ts');
  const { audit } = await import('../controls/ledger/audit.ts');
  const sources: import('../controls/ledger/audit.ts').AuditSources = { witnessed };
  if (o.anchors) sources.anchors = new FsStore(logDir(o.anchors));
  if (o.trail) sources.trail = { store: new FsStore(logDir(o.trail)) };
  if (o.appEvents) sources.appEvents = appEvents(o.appEvents);
  const report = await audit(new FsStore(abs), t, sources);
  if (ui.json) ui.print(JSON.stringify(report, null, 2));
  else printReport(ui, report);
  return report.ok ? ExitCode.OK : ExitCode.FAILED;
}

function printReport(ui: Ui, r: AuditReport): void {
  const head = `${r.origin}: checkpoint size ${r.size}, ${r.entries} entries read, witnessed/anchored size ${r.witnessedSize}`;
  if (r.ok) {
    ui.print(`${ui.out.mark(true)} ${head}: no discrepancy`);
    return;
  }
  ui.print(`${ui.out.mark(false)} ${head}: ${r.discrepancies.length} discrepanc${r.discrepancies.length === 1 ? 'y' : 'ies'}`);
  for (const d of r.discrepancies) printDiscrepancy(ui, d);
}

function printDiscrepancy(ui: Ui, d: Discrepancy): void {
  ui.print(`  ${ui.out.red(d.kind)}${d.index !== undefined ? ` at entry ${d.index}` : ''}: ${d.detail}`);
  for (const e of d.evidence.slice(0, 6)) ui.print(`      ${e.replace(/\n/g, '\n      ').slice(0, 600)}`);
}
