// What students' solutions may import as 'seclab/kit': small helpers, nothing that does the lab for them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import * as OTPAuth from 'otpauth';

/**
 * The 6-digit code an authenticator app shows for a virtual MFA device seed (the Base32StringSeed of
 * CreateVirtualMFADevice) at `time` (default: the lab cloud's now). EnableMFADevice needs two consecutive codes:
 * `totp(seed, now - 30_000)` and `totp(seed)`.
 */
export function totp(seedBase32: string | Uint8Array, time: number = labNow()): string {
  const seed = typeof seedBase32 === 'string' ? seedBase32 : new TextDecoder().decode(seedBase32);
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(seed), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: time });
}

/** What every lab passes to a solution's exported functions. */
export interface LabInput<Env = Record<string, unknown>> {
  lab: string;
  accountId: string;
  region: string;
  /** The lab cloud's endpoint (also in AWS_ENDPOINT_URL). */
  endpoint: string;
  /** Lab cloud time in ms since the epoch (use it for TOTP codes: the lab clock may run ahead). */
  now: number;
  /** Facts about the lab's company: people, buckets, addresses. */
  env: Env;
}

/** The lab cloud's clock (it may run ahead of the wall clock when scenarios advance time). */
export function labNow(): number {
  const file = process.env['SECLAB_CLOCK_FILE'];
  if (file) {
    try {
      const text = readFileSync(file, 'utf8');
      // "=<ms>": a grading holds the lab clock at that time (it does not follow the wall clock then).
      if (text.startsWith('=')) return Number(text.slice(1));
      return Date.now() + Number(text);
    } catch {
      // fall back to the offset at start
    }
  }
  return Date.now() + Number(process.env['SECLAB_CLOCK_OFFSET_MS'] ?? 0);
}

/**
 * A zip of every file under `dir` (a path or a file: URL), paths relative to it, for Lambda's
 * CreateFunction (`Code: { ZipFile: zipDir(new URL('./responder/', import.meta.url)) }`).
 * Reproducible: entries sorted, fixed timestamps; node_modules and dotfiles are left out.
 */
export function zipDir(dir: string | URL): Uint8Array {
  const root = typeof dir === 'string' ? dir : fileURLToPath(dir);
  const files: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[path.relative(root, p).split(path.sep).join('/')] = [readFileSync(p), { mtime: new Date('1980-01-01T00:00:00Z') }];
    }
  };
  walk(root);
  if (!Object.keys(files).length) throw new Error(`zipDir: ${root} holds no files`);
  return zipSync(files, { level: 6 });
}
