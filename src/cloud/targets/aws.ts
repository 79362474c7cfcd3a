// A real AWS sandbox account. Never touched by accident: an explicit account id that must match
// sts:GetCallerIdentity, and a confirmation (or --yes in CI).

import { SetupError } from './errors.ts';
import type { Target } from './types.ts';

export interface CallerIdentity {
  Account?: string;
  Arn?: string;
  UserId?: string;
}

/** Something that answers sts:GetCallerIdentity; injectable so tests need no network. */
export interface IdentitySource {
  getCallerIdentity(): Promise<CallerIdentity>;
  /** The region the client resolved (from options, environment or profile). */
  region(): Promise<string>;
}

export type StsFactory = (opts: { region?: string }) => IdentitySource | Promise<IdentitySource>;

export interface ConnectAwsOptions {
  /** The sandbox account id seclab may use (12 digits). Required. */
  accountId?: string;
  /** Skip the confirmation (CI). */
  yes?: boolean;
  /** Ask the user; default an @inquirer/prompts confirm defaulting to No. */
  confirm?: (question: string) => Promise<boolean>;
  region?: string;
  /** Whether there is a terminal to ask on; default stdin and stdout are TTYs. */
  interactive?: boolean;
  /** Default: an STSClient using the standard credential chain (AWS_PROFILE, env, SSO, ...). */
  sts?: StsFactory;
}

export const TAG_LAB = 'seclab:lab';
export const TAG_RUN = 'seclab:run';

export type RunTags = { [TAG_LAB]: string; [TAG_RUN]: string };

const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;

/** The tags every resource seclab creates must carry, so cleanup and the leak scan can find it. */
export function runTag(labId: string, runId: string): RunTags {
  for (const [name, v] of [['lab id', labId], ['run id', runId]] as const) {
    if (!TAG_VALUE.test(v)) throw new Error(`The ${name} ${JSON.stringify(v)} cannot be an AWS tag value (1-256 letters, digits, spaces and _ . : / = + - @)`);
  }
  return { [TAG_LAB]: labId, [TAG_RUN]: runId };
}

/** The same tags as AWS's most common list shape, [{ Key, Value }]. */
export function runTagList(labId: string, runId: string): { Key: string; Value: string }[] {
  return Object.entries(runTag(labId, runId)).map(([Key, Value]) => ({ Key, Value }));
}

export interface AwsTarget extends Target {
  kind: 'aws';
  url: undefined;
  emulated: false;
  accountSelection: 'none';
  accountId: string;
  /** Who the credentials are (sts:GetCallerIdentity Arn). */
  arn: string;
  region: string;
  runTag(labId: string, runId: string): RunTags;
}

/** STS endpoint of the real AWS partition for a region; pinned so AWS_ENDPOINT_URL cannot redirect the check. */
function stsEndpoint(region: string): string {
  return region.startsWith('cn-') ? `https://sts.${region}.amazonaws.com.cn` : `https://sts.${region}.amazonaws.com`;
}

const defaultSts: StsFactory = async ({ region }) => {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const probe = new STSClient({ region });
  let resolved: string;
  try {
    resolved = await probe.config.region();
  } catch {
    resolved = '';
  } finally {
    probe.destroy();
  }
  if (!resolved) {
    throw new SetupError('No AWS region is configured.', 'Pass --region <region>, or set AWS_REGION (or region in your AWS profile).');
  }
  return {
    region: async () => resolved,
    async getCallerIdentity() {
      const client = new STSClient({
        region: resolved,
        endpoint: stsEndpoint(resolved),
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 5000, requestTimeout: 10_000 },
      });
      try {
        return await client.send(new GetCallerIdentityCommand({}));
      } finally {
        client.destroy();
      }
    },
  };
};

async function defaultConfirm(question: string): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message: question, default: false });
}

export async function connectAws(opts: ConnectAwsOptions = {}): Promise<AwsTarget> {
  const accountId = opts.accountId?.trim();
  if (!accountId) {
    throw new SetupError(
      '--target aws needs the id of the sandbox account to use; seclab never picks an account from your credentials alone.',
      'Pass --account-id <12-digit id of a sandbox account> (check it with: aws sts get-caller-identity).',
    );
  }
  if (!/^\d{12}$/.test(accountId)) {
    throw new SetupError(`"${accountId}" is not an AWS account id (12 digits).`, 'Pass --account-id with the 12-digit id, e.g. --account-id 123456789012.');
  }
  const interactive = opts.interactive ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
  if (!opts.yes && !interactive) {
    throw new SetupError(
      `Refusing to use the real AWS account ${accountId} without a confirmation, and there is no terminal to ask on.`,
      'In CI, pass --yes after checking that --account-id is a sandbox account.',
    );
  }
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const source = await (opts.sts ?? defaultSts)({ region });
  let identity: CallerIdentity;
  try {
    identity = await source.getCallerIdentity();
  } catch (e) {
    if (e instanceof SetupError) throw e;
    const err = e as Error & { name?: string };
    const noCreds = err.name === 'CredentialsProviderError' || /credential/i.test(err.message);
    throw new SetupError(
      noCreds ? `No usable AWS credentials: ${err.message}` : `sts:GetCallerIdentity failed: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}`,
      noCreds
        ? 'Configure credentials for the sandbox account (aws configure, aws sso login, or AWS_PROFILE=<profile>), then check them with: aws sts get-caller-identity'
        : 'Check network access to AWS and your credentials with: aws sts get-caller-identity',
      { cause: e },
    );
  }
  const actual = identity.Account ?? '';
  const arn = identity.Arn ?? 'unknown principal';
  if (actual !== accountId) {
    throw new SetupError(
      `Refusing: your AWS credentials belong to account ${actual || '(unknown)'} (${arn}), not to ${accountId} given with --account-id.`,
      'Switch to credentials for the sandbox account (e.g. AWS_PROFILE=<sandbox profile>), or correct --account-id.',
    );
  }
  const resolvedRegion = await source.region();
  if (!opts.yes) {
    const question =
      `seclab is about to create resources in the REAL AWS account ${accountId} as ${arn} in ${resolvedRegion}, and to run attack scenarios against them. ` +
      'Everything is tagged seclab:lab / seclab:run and cleaned up afterwards, but it may cost money. Continue?';
    const ok = await (opts.confirm ?? defaultConfirm)(question);
    if (!ok) {
      throw new SetupError(`Cancelled: nothing was created in account ${accountId}.`, 'Use the default lab cloud (--target moto) to work without AWS.');
    }
  }
  return {
    kind: 'aws',
    url: undefined,
    emulated: false,
    accountSelection: 'none',
    accountId,
    arn,
    region: resolvedRegion,
    description: `AWS account ${accountId} (${arn}) in ${resolvedRegion}`,
    runTag,
    reset: async () => {},
    stop: async () => {},
    onDeath: () => () => {},
  };
}
