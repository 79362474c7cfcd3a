// Where flow-log records go. The gateway injects its own sinks (so that PutLogEvents also feeds its
// metric-filter engine); these are the plain ones: straight into the emulator, and in memory.
//
// Sink contract, as the flow-logs service behaves with its delivery role: `putLogEvents` creates the
// log group and the stream when they are missing, and sends the events in chronological order
// within PutLogEvents' limits (10,000 events, 1,048,576 bytes counting 26 bytes per event, 24 hours
// per batch); `putObject` writes the object as given.
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface LogEvent {
  timestamp: number;
  message: string;
}

export interface FlowLogSinks {
  putLogEvents(account: string, region: string, group: string, stream: string, events: LogEvent[]): Promise<void>;
  putObject(account: string, bucket: string, key: string, body: Buffer): Promise<void>;
}

/** Splits chronologically sorted events into batches PutLogEvents accepts. */
export function logEventBatches(events: LogEvent[]): LogEvent[][] {
  let inOrder = true;
  for (let i = 1; i < events.length && inOrder; i++) inOrder = events[i - 1]!.timestamp <= events[i]!.timestamp;
  const sorted = inOrder ? events : [...events].sort((a, b) => a.timestamp - b.timestamp);
  const batches: LogEvent[][] = [];
  let cur: LogEvent[] = [];
  let size = 0;
  for (const e of sorted) {
    const bytes = Buffer.byteLength(e.message) + 26;
    if (cur.length && (cur.length >= 10_000 || size + bytes > 1_048_576 || e.timestamp - cur[0]!.timestamp >= 24 * 3600_000)) {
      batches.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += bytes;
  }
  if (cur.length) batches.push(cur);
  return batches;
}

/** Keeps everything in memory (tests, benchmarks). */
export class MemorySinks implements FlowLogSinks {
  /** `${account}|${region}|${group}|${stream}` → events in arrival order. */
  readonly logEvents = new Map<string, LogEvent[]>();
  /** `${account}|${bucket}|${key}` → body. */
  readonly objects = new Map<string, Buffer>();

  async putLogEvents(account: string, region: string, group: string, stream: string, events: LogEvent[]): Promise<void> {
    const key = `${account}|${region}|${group}|${stream}`;
    const list = this.logEvents.get(key) ?? [];
    for (const b of logEventBatches(events)) for (const e of b) list.push(e);
    this.logEvents.set(key, list);
  }

  async putObject(account: string, bucket: string, key: string, body: Buffer): Promise<void> {
    this.objects.set(`${account}|${bucket}|${key}`, body);
  }

  /** Every message written to a group (all streams), in arrival order. */
  messages(account: string, region: string, group: string): string[] {
    const prefix = `${account}|${region}|${group}|`;
    return [...this.logEvents].filter(([k]) => k.startsWith(prefix)).flatMap(([, v]) => v.map((e) => e.message));
  }
}

export class DeliveryError extends Error {}

/** Writes straight into moto (or LocalStack), choosing the account the way the gateway's Upstream does. */
export class EmulatorSinks implements FlowLogSinks {
  private readonly logs = new Map<string, CloudWatchLogsClient>();
  private readonly s3 = new Map<string, S3Client>();
  private readonly ready = new Set<string>();

  constructor(
    private readonly url: string,
    private readonly accountSelection: 'header' | 'access-key' = 'header',
    /** Headers every request carries (moto's per-run secret). */
    private readonly headers: Record<string, string> = {},
  ) {}

  private configure<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(c: C, account: string): C {
    (c.middlewareStack as unknown as { add: (mw: unknown, o: unknown) => void }).add(
      (next: (a: unknown) => unknown) => async (args: { request: { headers: Record<string, string> } }) => {
        Object.assign(args.request.headers, this.headers);
        if (this.accountSelection === 'header') args.request.headers['x-moto-account-id'] = account;
        return next(args);
      },
      { step: 'build', name: 'seclabSelectAccount' },
    );
    return c;
  }

  private credentials(account: string) {
    return { accessKeyId: this.accountSelection === 'header' ? 'AKIASECLABFLOWLOGS00' : account, secretAccessKey: 'flowlogs' };
  }

  private logsClient(account: string, region: string): CloudWatchLogsClient {
    const key = `${account}|${region}`;
    let c = this.logs.get(key);
    if (!c) {
      c = this.configure(new CloudWatchLogsClient({ endpoint: this.url, region, maxAttempts: 2, credentials: this.credentials(account) }), account);
      this.logs.set(key, c);
    }
    return c;
  }

  private s3Client(account: string): S3Client {
    let c = this.s3.get(account);
    if (!c) {
      c = this.configure(new S3Client({ endpoint: this.url, region: 'us-east-1', forcePathStyle: true, maxAttempts: 2, credentials: this.credentials(account) }), account);
      this.s3.set(account, c);
    }
    return c;
  }

  private async ensure(c: CloudWatchLogsClient, account: string, region: string, group: string, stream: string): Promise<void> {
    const key = `${account}|${region}|${group}|${stream}`;
    if (this.ready.has(key)) return;
    const exists = (e: unknown) => (e as { name?: string }).name === 'ResourceAlreadyExistsException';
    await c.send(new CreateLogGroupCommand({ logGroupName: group })).catch((e) => { if (!exists(e)) throw e; });
    await c.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })).catch((e) => { if (!exists(e)) throw e; });
    this.ready.add(key);
  }

  async putLogEvents(account: string, region: string, group: string, stream: string, events: LogEvent[]): Promise<void> {
    const c = this.logsClient(account, region);
    await this.ensure(c, account, region, group, stream);
    for (const batch of logEventBatches(events)) {
      const send = () => c.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: batch }));
      let r;
      try {
        r = await send();
      } catch (e) {
        if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw e;
        // The group or stream was deleted since: create them again, as the service would.
        this.ready.delete(`${account}|${region}|${group}|${stream}`);
        await this.ensure(c, account, region, group, stream);
        r = await send();
      }
      const rej = r.rejectedLogEventsInfo;
      if (rej && (rej.tooNewLogEventStartIndex !== undefined || rej.tooOldLogEventEndIndex !== undefined || rej.expiredLogEventEndIndex !== undefined)) {
        throw new DeliveryError(
          `CloudWatch Logs rejected some flow-log events of ${group}/${stream} (${JSON.stringify(rej)}): ` +
          'the emulator accepts timestamps from 14 days before to 2 hours after its own wall clock',
        );
      }
    }
  }

  async putObject(account: string, bucket: string, key: string, body: Buffer): Promise<void> {
    await this.s3Client(account).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  close(): void {
    for (const c of this.logs.values()) c.destroy();
    for (const c of this.s3.values()) c.destroy();
    this.logs.clear();
    this.s3.clear();
  }
}
