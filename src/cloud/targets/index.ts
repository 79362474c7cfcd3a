// The lab cloud's targets: what `--target` selects.

import { connectAws, type ConnectAwsOptions } from './aws.ts';
import { connectEndpoint, parseEndpointUrl } from './endpoint.ts';
import { SetupError } from './errors.ts';
import { startLocalstack, type StartLocalstackOptions } from './localstack.ts';
import { startMoto, type StartMotoOptions } from './moto.ts';
import type { Target, TargetKind } from './types.ts';

export type { AccountSelection, Progress, Target, TargetKind } from './types.ts';
export { SetupError, TargetDiedError } from './errors.ts';
export { startMoto, MOTO_CONFIG, MOTO_IMAGE, type MotoTarget, type StartMotoOptions } from './moto.ts';
export { startLocalstack, LOCALSTACK_IMAGE, type LocalstackTarget, type StartLocalstackOptions } from './localstack.ts';
export { connectEndpoint, parseEndpointUrl, type EndpointTarget, type EndpointFlavour } from './endpoint.ts';
export { connectAws, runTag, runTagList, TAG_LAB, TAG_RUN, type AwsTarget, type ConnectAwsOptions, type RunTags, type StsFactory } from './aws.ts';
export { dockerAvailable, type DockerStatus } from './docker.ts';
export { runDoctor, type DoctorCheck } from './doctor.ts';
export { MOTO_PIN, cacheDir, motoVenvDir } from './python.ts';

export const DEFAULT_TARGET = 'moto';

export type TargetSpec = { kind: 'moto' } | { kind: 'localstack' } | { kind: 'endpoint'; url: string } | { kind: 'aws' };

const USAGE = 'Use one of: moto (the default, local), localstack (needs Docker), endpoint=<url> (an emulator already running), aws (a real sandbox account, with --account-id).';

/** Parse a `--target` value; throws a SetupError naming the valid forms. */
export function parseTargetSpec(spec: string | undefined): TargetSpec {
  const s = (spec ?? DEFAULT_TARGET).trim();
  const lower = s.toLowerCase();
  if (lower === 'moto' || lower === 'localstack' || lower === 'aws') return { kind: lower };
  const m = /^endpoint\s*=\s*(.*)$/i.exec(s);
  if (m) {
    if (!m[1]) throw new SetupError('--target endpoint= needs a URL.', 'e.g. --target endpoint=http://127.0.0.1:4566');
    return { kind: 'endpoint', url: parseEndpointUrl(m[1]) };
  }
  if (lower === 'endpoint') throw new SetupError('--target endpoint needs a URL.', 'Write it as --target endpoint=http://host:port');
  if (/^https?:\/\//i.test(s)) throw new SetupError(`Unknown target "${s}".`, `To use an emulator that is already running write --target endpoint=${s}`);
  throw new SetupError(`Unknown target "${s}".`, USAGE);
}

export type StartTargetOptions = StartMotoOptions & StartLocalstackOptions & Omit<ConnectAwsOptions, 'region'> & { region?: string };

/** Start or connect the target `spec` names (moto | localstack | endpoint=<url> | aws). */
export async function startTarget(spec: string | undefined, opts: StartTargetOptions = {}): Promise<Target> {
  const parsed = parseTargetSpec(spec);
  const kind: TargetKind = parsed.kind;
  switch (kind) {
    case 'moto':
      return startMoto(opts);
    case 'localstack':
      return startLocalstack(opts);
    case 'endpoint':
      return connectEndpoint((parsed as { url: string }).url);
    case 'aws':
      return connectAws(opts);
  }
}
