// C2SP checkpoints (c2sp.org/tlog-checkpoint): the note text `<origin>\n<size>\n<base64 root>\n` followed
// by optional non-empty extension lines, signed as a note (note.ts).
import type { Hash } from './hash.ts';
import { decodeBase64, NoteError, openNote, type NoteVerifier, type OpenedNote } from './note.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Hash;
  extensions: string[];
}

function bad(why: string): NoteError {
  return new NoteError('bad-checkpoint', `malformed checkpoint: ${why}`);
}

export function formatCheckpoint(c: Checkpoint): string {
  if (!c.origin || c.origin.includes('\n')) throw bad('the origin must be one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw bad(`the size ${c.size} is not a non-negative integer`);
  if (!Buffer.isBuffer(c.root) || c.root.length !== 32) throw bad('the root must be a 32-byte hash');
  for (const e of c.extensions) if (!e || e.includes('\n')) throw bad('an extension line must be one non-empty line');
  return [c.origin, String(c.size), c.root.toString('base64'), ...c.extensions].map((l) => `${l}\n`).join('');
}

/** Parses a checkpoint's note text (not the whole signed note: openCheckpoint verifies and parses). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw bad('the text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw bad(`it needs at least three lines (origin, size, root hash), it has ${lines.length}`);
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (!origin) throw bad('the origin line is empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw bad(`the size line ${JSON.stringify(sizeLine.slice(0, 40))} is not a decimal number without leading zeros`);
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw bad(`the size ${sizeLine} is too large`);
  const root = decodeBase64(rootLine);
  if (!root || root.length !== 32) throw bad('the third line is not the base64 of a 32-byte root hash');
  for (const [i, e] of extensions.entries()) if (!e) throw bad(`extension line ${i + 1} is empty (the text holds a blank line)`);
  return { origin, size, root, extensions };
}

/** Verifies a signed checkpoint note and parses it; `origin`, if given, must match. */
export function openCheckpoint(note: string | Uint8Array, verifiers: NoteVerifier[], origin?: string): { checkpoint: Checkpoint; note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new NoteError('wrong-origin', `the checkpoint is for the log ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(origin)}`);
  }
  return { checkpoint, note: opened };
}
