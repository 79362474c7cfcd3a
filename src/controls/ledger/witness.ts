// A c2sp.org/tlog-witness witness: it cosigns a log's checkpoint only after checking that the checkpoint
// is signed by the log's key and is consistent with the last checkpoint it cosigned for that log, so a
// log operator who rewrites history (edits, truncates, forks) cannot get a cosignature for the new view.
// Its state (the latest cosigned checkpoint per origin, and a record of everything it cosigned or refused
// with a valid log signature) lives in a store such as an S3 bucket in another account, which the log's
// operator cannot write.
import { createHash } from 'node:crypto';
import { EMPTY_ROOT, type Hash } from './hash.ts';
import { verifyConsistency } from './tree.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { addSignatures, decodeBase64, NoteError, openNote, signNote, splitNote, verifierFromVkey, type NoteSigner, type NoteVerifier } from './note.ts';
import { cosignatureVkey, cosigner } from './cosignature.ts';

/** What the witness needs of a LedgerStore (store.ts): any LedgerStore fits. */
export interface WitnessStore {
  get(path: string): Promise<Buffer | undefined>;
  put(path: string, data: Buffer): Promise<void>;
  /** With these two (LedgerStore's compare-and-swap) the state update is safe across instances. */
  getTagged?(path: string): Promise<{ data: Buffer; etag: string } | undefined>;
  putIf?(path: string, data: Buffer, cond: { ifMatch: string } | { ifNoneMatch: true }): Promise<string | undefined>;
}

export interface WitnessResponse { status: number; contentType: string; body: string }

/** check()'s answer when its compare-and-swap of the state lost to another instance. */
const LOST = Symbol('lost-race');

export const MAX_PROOF_LINES = 63;
export const SIZE_CONTENT_TYPE = 'text/x.tlog.size';
const TEXT = 'text/plain; charset=utf-8';

function statePrefix(origin: string): string {
  return `witness/${encodeURIComponent(origin)}`;
}

function pad(n: number): string {
  return String(n).padStart(20, '0');
}

function reply(status: number, body: string, contentType = TEXT): WitnessResponse {
  return { status, contentType, body: body.endsWith('\n') ? body : `${body}\n` };
}

/** Parses an add-checkpoint request body; throws a message for a 400. */
export function parseAddCheckpoint(body: string): { oldSize: number; proof: Hash[]; note: string } {
  const nl = body.indexOf('\n');
  const first = nl < 0 ? body : body.slice(0, nl);
  const m = /^old (0|[1-9][0-9]*)$/.exec(first);
  if (!m) throw new Error(`the first line must be "old <size>" (decimal, no leading zeros), not ${JSON.stringify(first.slice(0, 40))}`);
  const oldSize = Number(m[1]);
  if (!Number.isSafeInteger(oldSize)) throw new Error('the old size is too large');
  const proof: Hash[] = [];
  let pos = nl + 1;
  for (;;) {
    const end = body.indexOf('\n', pos);
    if (end < 0) throw new Error('missing the empty line between the consistency proof and the checkpoint');
    const line = body.slice(pos, end);
    pos = end + 1;
    if (line === '') break;
    const h = decodeBase64(line);
    if (!h || h.length !== 32) throw new Error(`proof line ${proof.length + 1} is not the base64 of a 32-byte hash`);
    proof.push(h);
    if (proof.length > MAX_PROOF_LINES) throw new Error(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  }
  return { oldSize, proof, note: body.slice(pos) };
}

/** The add-checkpoint request body (c2sp.org/tlog-witness). */
export function addCheckpointRequest(oldSize: number, proof: Hash[], checkpointNote: string): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw new NoteError('bad-request', `the old size ${oldSize} is not a non-negative integer`);
  if (proof.length > MAX_PROOF_LINES) throw new NoteError('bad-request', `a consistency proof has at most ${MAX_PROOF_LINES} hashes`);
  return `old ${oldSize}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${checkpointNote}`;
}

export class Witness {
  readonly name: string;
  /** The witness's cosignature (0x04) vkey: what verifiers of its cosignatures trust. */
  readonly vkey: string;
  private readonly signer: NoteSigner;
  private readonly store: WitnessStore;
  private readonly logs = new Map<string, NoteVerifier[]>();
  private readonly now: () => number;
  /** Per-origin queue: the size check and the state update happen as one step (the spec's race). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(opts: { skey: string; store: WitnessStore; logs: { origin: string; vkeys: string[] }[]; now: () => number }) {
    this.signer = cosigner(opts.skey, opts.now);
    this.name = this.signer.name;
    this.vkey = cosignatureVkey(opts.skey);
    this.store = opts.store;
    this.now = opts.now;
    for (const l of opts.logs) {
      if (!l.origin || l.origin.includes('\n')) throw new NoteError('bad-config', `a log origin must be one non-empty line, not ${JSON.stringify(l.origin)}`);
      if (l.vkeys.length === 0) throw new NoteError('bad-config', `the log ${l.origin} needs at least one vkey`);
      this.logs.set(l.origin, l.vkeys.map(verifierFromVkey));
    }
  }

  /** The last checkpoint note this witness cosigned for `origin` (with its cosignature), if any. */
  async latest(origin: string): Promise<string | undefined> {
    return (await this.store.get(`${statePrefix(origin)}/checkpoint`))?.toString('utf8');
  }

  /** POST /add-checkpoint: the status, content type and body to answer with. */
  async addCheckpoint(body: string | Uint8Array): Promise<WitnessResponse> {
    let text: string;
    try {
      text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      return reply(400, 'the request body is not UTF-8');
    }
    let req: ReturnType<typeof parseAddCheckpoint>;
    let checkpoint: Checkpoint;
    try {
      req = parseAddCheckpoint(text);
      checkpoint = parseCheckpoint(splitNote(req.note).text);
    } catch (e) {
      return reply(400, `malformed add-checkpoint request: ${(e as Error).message}`);
    }
    const verifiers = this.logs.get(checkpoint.origin);
    if (!verifiers) return reply(404, `unknown log origin ${JSON.stringify(checkpoint.origin)}: this witness is not configured for it`);
    try {
      openNote(req.note, verifiers);
    } catch (e) {
      return reply(403, `the checkpoint is not signed by a key this witness trusts for ${checkpoint.origin}: ${(e as Error).message}`);
    }
    if (req.oldSize > checkpoint.size) return reply(400, `the old size ${req.oldSize} is larger than the checkpoint size ${checkpoint.size}`);
    return this.serialized(checkpoint.origin, async () => {
      // Another instance sharing the state store may update it between our read and our write: the write
      // is a compare-and-swap, and a lost race is checked once more against the state that won (which
      // usually answers 409 with the new size), then refused.
      for (let attempt = 0; attempt < 2; attempt++) {
        const r = await this.check(req, checkpoint);
        if (r !== LOST) return r;
      }
      return reply(503, `another request changed this witness's state for ${checkpoint.origin} while this one was checked; retry`);
    });
  }

  private async serialized<T>(origin: string, f: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(origin) ?? Promise.resolve();
    const run = prev.then(f, f);
    this.queues.set(origin, run.catch(() => undefined));
    return run;
  }

  private async check(req: { oldSize: number; proof: Hash[]; note: string }, cp: Checkpoint): Promise<WitnessResponse | typeof LOST> {
    const prefix = statePrefix(cp.origin);
    const cas = typeof this.store.getTagged === 'function' && typeof this.store.putIf === 'function';
    const tagged = cas ? await this.store.getTagged!(`${prefix}/checkpoint`) : undefined;
    const stored = cas ? tagged?.data.toString('utf8') : await this.latest(cp.origin);
    let current: Checkpoint | undefined;
    if (stored !== undefined) {
      try {
        current = parseCheckpoint(splitNote(stored).text);
      } catch (e) {
        // Our own state is unreadable: refuse rather than restart the log's history from zero.
        return reply(500, `the witness's stored checkpoint for ${cp.origin} is unreadable (${(e as Error).message}); an operator must repair ${prefix}/checkpoint`);
      }
    }
    const currentSize = current?.size ?? 0;
    if (req.oldSize !== currentSize) return reply(409, `${currentSize}\n`, SIZE_CONTENT_TYPE);
    const t = Math.floor(this.now() / 1000);
    // The refused request itself (signed by the log) is the evidence of its misbehaviour: kept whole.
    const evidence = async (reason: string) => {
      const body = addCheckpointRequest(req.oldSize, req.proof, req.note);
      const id = createHash('sha256').update(body).digest('hex').slice(0, 12);
      await this.store.put(`${prefix}/refused/${pad(cp.size)}-${t}-${id}-${reason}`, Buffer.from(body, 'utf8'));
    };
    if (req.oldSize === 0 && req.proof.length > 0) return reply(422, 'the consistency proof must be empty when the old size is 0');
    if (current && cp.size === current.size) {
      if (!cp.root.equals(current.root)) {
        await evidence('fork');
        return reply(409, `the checkpoint has the size ${cp.size} of the last cosigned checkpoint but a different root hash: a forked log`);
      }
      if (req.proof.length > 0) return reply(422, 'the consistency proof must be empty when the sizes are equal');
    } else if (current && current.size > 0) {
      if (!verifyConsistency(current.size, cp.size, req.proof, current.root, cp.root)) {
        await evidence('inconsistent');
        return reply(422, `the consistency proof from size ${current.size} to ${cp.size} does not verify: the log is not an extension of the last cosigned checkpoint`);
      }
    }
    if (cp.size === 0 && !cp.root.equals(EMPTY_ROOT)) return reply(422, 'a checkpoint of size 0 must have the empty tree root SHA-256("")');
    const cosigned = await signNote(splitNote(req.note).text, [this.signer]);
    const line = cosigned.slice(cosigned.lastIndexOf('\n\n') + 2);
    const note = addSignatures(req.note, [line]);
    // Persist before answering (the spec): a crash after this put and before the answer only costs a retry.
    if (cas) {
      const won = await this.store.putIf!(`${prefix}/checkpoint`, Buffer.from(note, 'utf8'), tagged ? { ifMatch: tagged.etag } : { ifNoneMatch: true });
      if (!won) return LOST;
    } else {
      await this.store.put(`${prefix}/checkpoint`, Buffer.from(note, 'utf8'));
    }
    // The record of what was cosigned only after the state update won (a loser cosigned nothing).
    await this.store.put(`${prefix}/cosigned/${pad(cp.size)}-${t}`, Buffer.from(note, 'utf8'));
    return reply(200, line);
  }
}

/**
 * The log side: gets a witness's cosignature lines for a checkpoint. `post` sends an add-checkpoint body
 * (over HTTP, or by invoking the witness's Lambda); `proof(oldSize)` is the log's consistency proof from
 * oldSize to the checkpoint's size. On a 409 the witness's size is taken from its answer and the request
 * repeated once with a proof from there.
 */
export async function requestCosignature(opts: {
  note: string;
  post: (body: string) => Promise<{ status: number; body: string }>;
  proof: (oldSize: number) => Promise<Hash[]>;
  oldSize?: number;
}): Promise<string[]> {
  const size = parseCheckpoint(splitNote(opts.note).text).size;
  let oldSize = opts.oldSize ?? 0;
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = await opts.post(addCheckpointRequest(oldSize, oldSize === 0 ? [] : await opts.proof(oldSize), opts.note));
    if (r.status === 200) return r.body.split('\n').filter((l) => l !== '');
    if (r.status === 409 && /^(0|[1-9][0-9]*)\n$/.test(r.body) && Number(r.body) !== oldSize && attempt === 0) {
      oldSize = Number(r.body);
      if (oldSize > size) throw new NoteError('witness-ahead', `the witness has cosigned size ${oldSize}, more than this checkpoint's ${size}: the log lost entries (rolled back or truncated)`);
      continue;
    }
    throw new NoteError('witness-refused', `the witness answered ${r.status}: ${r.body.trim().slice(0, 300)}`);
  }
  throw new NoteError('witness-refused', 'the witness kept answering 409');
}
