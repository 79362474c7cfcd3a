// Runs Node.js Lambda functions for the lab cloud (moto needs Docker to run code): each invocation in
// a child process with the function's environment, timeout and memory setting, and credentials of its
// execution role, so the gateway enforces the function's own permissions. Logs go to
// /aws/lambda/<name> in CloudWatch Logs, in the runtime's format.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { newAccessKeyId, newSecret } from '../../gateway/credentials.ts';
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import { lambdaExtension } from './extension.ts';
import { evaluate } from '../../policy/evaluate.ts';
import { parsePolicyText } from '../iam/policy-store.ts';
import { launchNode, linkMessages } from '../../sandbox/launch.ts';
import { packageProblem } from './package.ts';

/** The longest a function runs in the lab cloud, in seconds of its own time (docs/moto-deviations.md). */
export const LAB_MAX_TIMEOUT_S = 60;
import { ApiError } from '../../gateway/api-error.ts';

/** Log output kept per invocation; more is dropped with a note (a flood must not slow the lab cloud). */
const LOG_LIMIT_BYTES = 256 * 1024;

/** An AWS service invoking a function, and on behalf of what (topic, rule, log group, alarm). */
export interface ServiceCaller {
  service: string;
  sourceArn: string;
}

const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

interface FunctionConfig {
  FunctionName: string;
  FunctionArn: string;
  Runtime?: string;
  Handler?: string;
  Role?: string;
  Timeout?: number;
  MemorySize?: number;
  Environment?: { Variables?: Record<string, string> };
}

export interface InvokeResult {
  /** Unhandled when the handler threw, timed out or could not load. */
  functionError?: 'Unhandled';
  payload: unknown;
  requestId: string;
  durationMs: number;
  logs: string[];
}

export class LambdaRunner implements ServiceRuntime {
  /** The longest a function may run here, in seconds of its own time (tests lower it). */
  maxTimeoutS = LAB_MAX_TIMEOUT_S;
  readonly extensions: ServiceExtension[] = [lambdaExtension(this)];
  /** Deployment packages seen in CreateFunction/UpdateFunctionCode, by function ARN. */
  private code = new Map<string, Buffer>();
  private pending = new Set<Promise<unknown>>();
  /** Service invocations the function's resource policy refused (what AWS shows as delivery failures). */
  readonly refusals: { account: string; functionName: string; service: string; reason: string; at: number }[] = [];
  private children = new Set<ChildProcess>();
  /** Every invocation, for graders and tests (account, function, event, result). */
  readonly invocations: { account: string; functionName: string; event: unknown; result: InvokeResult; at: number }[] = [];

  constructor(private readonly caps: Capabilities) {}

  /** Code download links handed out by GetFunction: token → function and expiry (lab clock). */
  private readonly codeLinks = new Map<string, { functionArn: string; expiresAt: number }>();
  readonly links = {
    'lambda-code': async (token: string) => {
      const l = this.codeLinks.get(token);
      if (!l || l.expiresAt < this.caps.clock.nowMs()) return undefined;
      const zip = this.code.get(l.functionArn);
      return zip ? { contentType: 'application/zip', body: zip } : undefined;
    },
  };

  /** A link to a function's deployment package, valid 10 minutes as AWS's presigned URL; undefined when the package is unknown. */
  codeLink(functionArn: string): string | undefined {
    const arn = functionArn.replace(/:(\$LATEST|\d+)$/, '');
    if (!this.code.has(arn)) return undefined;
    const token = randomBytes(24).toString('base64url');
    const now = this.caps.clock.nowMs();
    for (const [t, l] of this.codeLinks) if (l.expiresAt < now) this.codeLinks.delete(t);
    this.codeLinks.set(token, { functionArn: arn, expiresAt: now + 10 * 60_000 });
    return `${this.caps.sandboxing.url()}/_seclab/lambda-code/${token}`;
  }

  storeCode(functionArn: string, zip: Buffer): void {
    this.code.set(functionArn, zip);
  }

  /** Throws Lambda's 404 ResourceNotFoundException when the function does not exist. */
  async assertExists(account: string, region: string, name: string): Promise<void> {
    await this.config(account, region, name);
  }

  private async config(account: string, region: string, name: string): Promise<FunctionConfig> {
    const notFound = (message: string) => new ApiError(404, 'ResourceNotFoundException', message);
    const out = await this.caps.target
      .json<{ Configuration?: FunctionConfig }>(account, 'lambda', 'GetFunctionConfiguration', { FunctionName: name }, region)
      .catch((e: unknown) => {
        // Lambda's own answer for an unknown function (404, "Function not found: arn:aws:lambda:..."), not a gateway failure.
        if ((e as { name?: string }).name === 'ResourceNotFoundException') throw notFound((e as Error).message);
        throw e;
      });
    if (!out.Configuration && !(out as FunctionConfig).FunctionArn) throw notFound(`Function not found: arn:aws:lambda:${region}:${account}:function:${name}`);
    return out.Configuration ?? (out as FunctionConfig);
  }

  /** Unpacks a package once per content hash. */
  private unpack(zip: Buffer): string {
    const dir = path.join(process.env['SECLAB_CACHE_DIR'] ?? path.join(os.homedir(), '.cache', 'seclab'), 'lambda', createHash('sha256').update(zip).digest('hex').slice(0, 24));
    if (!existsSync(path.join(dir, '.unpacked'))) {
      for (const [name, data] of Object.entries(unzipSync(new Uint8Array(zip)))) {
        if (name.endsWith('/')) continue;
        const target = path.join(dir, name);
        if (!target.startsWith(dir + path.sep)) continue; // zip slip
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, data);
      }
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, '.unpacked'), '');
    }
    return dir;
  }

  /** Session credentials for the execution role, as Lambda hands them to the function. */
  private roleCredentials(account: string, roleArn: string, functionName: string) {
    const now = this.caps.clock.now();
    const roleName = roleArn.split('/').pop() ?? '';
    const cred = this.caps.credentials.add({
      accessKeyId: newAccessKeyId('ASIA'), secret: newSecret(), sessionToken: randomBytes(48).toString('base64'), account,
      kind: 'role-session', roleName, roleArn, sessionName: functionName, arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${functionName}`,
      status: 'Active', issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000),
    });
    return cred;
  }

  /** Synchronous invocation (RequestResponse). */
  async invoke(account: string, region: string, functionName: string, event: unknown): Promise<InvokeResult> {
    const cfg = await this.config(account, region, functionName);
    const requestId = randomUUID();
    const started = Date.now();
    const logs: string[] = [];
    const finish = async (functionError: InvokeResult['functionError'], payload: unknown): Promise<InvokeResult> => {
      const durationMs = Date.now() - started;
      logs.unshift(`START RequestId: ${requestId} Version: $LATEST`);
      logs.push(`END RequestId: ${requestId}`);
      logs.push(`REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${cfg.MemorySize ?? 128} MB\tMax Memory Used: ${Math.round(process.memoryUsage().rss / 1e6 / 4)} MB`);
      const result = { ...(functionError ? { functionError } : {}), payload, requestId, durationMs, logs };
      const now = this.caps.clock.nowMs();
      const d = new Date(now);
      const stream = `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/[$LATEST]${randomBytes(16).toString('hex')}`;
      await this.caps.sinks.putLogEvents(account, region, `/aws/lambda/${cfg.FunctionName}`, stream, logs.map((message, i) => ({ timestamp: now + i, message })))
        .catch(() => undefined);
      this.invocations.push({ account, functionName: cfg.FunctionName, event, result, at: now });
      if (this.invocations.length > 10_000) this.invocations.splice(0, 1_000);
      return result;
    };

    const zip = this.code.get(cfg.FunctionArn);
    if (!zip) return finish('Unhandled', { errorType: 'Runtime.InvalidEntrypoint', errorMessage: 'the lab cloud has no deployment package for this function (create it through the lab cloud with a zip file)' });
    if (cfg.Runtime && !cfg.Runtime.startsWith('nodejs')) {
      return finish('Unhandled', { errorType: 'Runtime.InvalidRuntime', errorMessage: `the lab cloud runs Node.js functions only; this one is ${cfg.Runtime}` });
    }
    const problem = packageProblem(zip);
    if (problem) return finish('Unhandled', { errorType: 'Runtime.InvalidEntrypoint', errorMessage: problem.message });
    const codeDir = this.unpack(zip);
    const creds = cfg.Role ? this.roleCredentials(account, cfg.Role, cfg.FunctionName) : undefined;
    // The lab cloud gives a function at most LAB_MAX_TIMEOUT_S of its own time, whatever its Timeout says
    // (AWS allows 900 s): one submission's idling function must not hold up a class's grading.
    const timeoutMs = Math.min(cfg.Timeout ?? 3, this.maxTimeoutS) * 1000;
    const waited = creds ? this.caps.sandboxing.trackKey(creds.accessKeyId) : undefined;
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      ...(cfg.Environment?.Variables ?? {}),
      AWS_REGION: region, AWS_DEFAULT_REGION: region, AWS_ENDPOINT_URL: this.caps.sandboxing.url(),
      AWS_LAMBDA_FUNCTION_NAME: cfg.FunctionName, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(cfg.MemorySize ?? 128),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST', AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${cfg.FunctionName}`,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_NO_WARNINGS: '1',
      AWS_CONFIG_FILE: '/nonexistent/seclab-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/seclab-credentials',
      SECLAB_LAMBDA_CODE_DIR: codeDir, _HANDLER: cfg.Handler ?? 'index.handler', LAMBDA_TASK_ROOT: codeDir,
      ...(creds ? { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secret, AWS_SESSION_TOKEN: creds.sessionToken! } : {}),
    };
    // The handler is a submission's code: in the sandbox (when the machine has one) it sees its own
    // package and reaches the gateway only, under limits derived from the function's memory setting.
    const memory = Math.min(Math.max(128, cfg.MemorySize ?? 128), 4096);
    const channel = this.caps.sandboxing.kind() === 'bwrap' ? await this.caps.sandboxing.openChannel(account, `Lambda function ${cfg.FunctionName}`) : undefined;
    const child = launchNode({
      kind: this.caps.sandboxing.kind(), script: BOOTSTRAP, cwd: codeDir, env, readOnly: [codeDir],
      gateway: { url: this.caps.sandboxing.url(), socketPath: channel?.socketPath },
      execArgv: [`--max-old-space-size=${Math.max(64, cfg.MemorySize ?? 128)}`],
      limits: { memoryMb: memory + 512, cpuSeconds: (cfg.Timeout ?? 3) + 30, processes: 64, fileSizeMb: 64, openFiles: 1024 },
    });
    this.children.add(child);
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    let logged = 0;
    const collect = (level: string) => (chunk: Buffer) => {
      if (logged > LOG_LIMIT_BYTES) return;
      logged += chunk.length;
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(`${this.caps.clock.now().toISOString()}\t${requestId}\t${level}\t${line.slice(0, 4096)}`);
      if (logged > LOG_LIMIT_BYTES) logs.push(`${this.caps.clock.now().toISOString()}\t${requestId}\tWARN\t(more than ${LOG_LIMIT_BYTES / 1024} KB of log output in this invocation: the rest is dropped)`);
    };
    child.stdout?.on('data', collect('INFO'));
    child.stderr?.on('data', collect('ERROR'));
    const outcome = await new Promise<{ ok: boolean; value?: unknown; error?: unknown; timedOut?: boolean }>((resolve) => {
      // The function's timeout runs from the handler call, not from the process start (cold start);
      // a runtime that never becomes ready is stopped after a generous bound.
      let timer = setTimeout(() => {
        kill();
        resolve({ ok: false, error: { errorType: 'Runtime.Unavailable', errorMessage: 'the Node.js runtime did not start within 30 s' } });
      }, 30_000);
      const link = linkMessages(child, (raw) => {
        const m = (raw && typeof raw === 'object' ? raw : {}) as { ready?: boolean; ok?: boolean; value?: unknown; error?: unknown };
        if (m.ready) {
          clearTimeout(timer);
          // The timeout counts the function's own time: what it waited for the lab cloud's answers
          // does not count (a loaded machine answers slower than AWS). A hard bound stays.
          const handlerStart = Date.now();
          const hardMs = Math.max(timeoutMs * 10, timeoutMs + 60_000);
          const check = () => {
            const wall = Date.now() - handlerStart;
            const own = wall - (waited?.waitedMs() ?? 0);
            if (own >= timeoutMs || wall >= hardMs) {
              kill();
              resolve({ ok: false, timedOut: true });
            } else {
              timer = setTimeout(check, Math.min(timeoutMs - own, hardMs - wall));
            }
          };
          timer = setTimeout(check, timeoutMs);
          link.send({ event, context: { functionName: cfg.FunctionName, functionVersion: '$LATEST', invokedFunctionArn: cfg.FunctionArn, memoryLimitInMB: String(cfg.MemorySize ?? 128), awsRequestId: requestId, logGroupName: `/aws/lambda/${cfg.FunctionName}`, deadline: Date.now() + timeoutMs } });
        } else {
          clearTimeout(timer);
          resolve({ ok: m.ok === true, value: m.value, error: m.error });
        }
      }, (why) => {
        clearTimeout(timer);
        kill();
        resolve({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: the runtime ${why}` } });
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        this.children.delete(child);
        resolve({ ok: false, error: { errorType: 'Runtime.Unavailable', errorMessage: `the Node.js runtime could not start: ${e.message}` } });
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        kill();
        this.children.delete(child);
        resolve({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${signal ?? `exit status ${code}`}` } });
      });
    });
    // The invocation's role credentials and its way to the gateway end with it.
    waited?.stop();
    if (creds) this.caps.credentials.remove(creds.accessKeyId);
    await channel?.close();
    if (outcome.timedOut) {
      logs.push(`${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
      return finish('Unhandled', { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` });
    }
    return outcome.ok ? finish(undefined, outcome.value) : finish('Unhandled', outcome.error);
  }

  /** Asynchronous invocation (Event, and every trigger): runs in the background; flush() awaits it. */
  invokeAsync(account: string, region: string, functionName: string, event: unknown, asService?: ServiceCaller): void {
    const run = async () => {
      if (asService) {
        const refusal = await this.serviceRefusal(account, region, functionName, asService);
        if (refusal) {
          this.refusals.push({ account, functionName, service: asService.service, reason: refusal, at: this.caps.clock.nowMs() });
          return undefined;
        }
      }
      return this.invoke(account, region, functionName, event);
    };
    const p = run().catch(() => undefined).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /**
   * An AWS service (SNS, EventBridge, CloudWatch Logs, alarms) may invoke a function only when the
   * function's resource policy allows it (lambda AddPermission), as in AWS.
   */
  private async serviceRefusal(account: string, region: string, functionName: string, caller: ServiceCaller): Promise<string | undefined> {
    const text = await this.caps.target
      .json<{ Policy?: string }>(account, 'lambda', 'GetPolicy', { FunctionName: functionName }, region)
      .then((r) => r.Policy, () => undefined);
    if (!text) return `${functionName} has no resource policy letting ${caller.service} invoke it (lambda AddPermission)`;
    const cfg = await this.config(account, region, functionName);
    const d = evaluate(
      {
        action: 'lambda:InvokeFunction', resource: cfg.FunctionArn,
        principal: { arn: caller.service, account, type: 'AWSService' },
        context: { 'aws:SourceArn': caller.sourceArn, 'aws:SourceAccount': account },
      },
      { identity: [], resource: { source: `resource policy of ${functionName}`, document: parsePolicyText(text), account } },
    );
    return d.decision === 'Allow' ? undefined : `the resource policy of ${functionName} does not let ${caller.service} invoke it from ${caller.sourceArn}`;
  }

  /** Stops every running function (the lab cloud is shutting down). */
  close(): void {
    this.stopAll();
  }

  stopAll(): void {
    for (const c of this.children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
    this.children.clear();
  }

  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    lambda: LambdaRunner;
  }
}

export const lambdaService = defineService('lambda', (caps) => new LambdaRunner(caps));
