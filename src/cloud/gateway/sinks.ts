// Where the lab cloud's own deliveries go (CloudTrail log files, flow-log records): written into the
// target as AWS's services would write them, and announced to listeners (metric filters, the SIEM).
import type { Upstream } from './upstream.ts';

export interface LogEvent {
  timestamp: number;
  message: string;
}

export type LogListener = (account: string, region: string, group: string, stream: string, events: LogEvent[]) => void | Promise<void>;
export type ObjectListener = (account: string, bucket: string, key: string, body: Buffer) => void | Promise<void>;

export class Sinks {
  private logListeners = new Set<LogListener>();
  private objectListeners = new Set<ObjectListener>();
  /** Groups and streams known to exist, so steady deliveries make one call, not three. */
  private streams = new Set<string>();

  constructor(private readonly upstream: Upstream) {}

  onLogEvents(l: LogListener): () => void {
    this.logListeners.add(l);
    return () => this.logListeners.delete(l);
  }

  onObject(l: ObjectListener): () => void {
    this.objectListeners.add(l);
    return () => this.objectListeners.delete(l);
  }

  /** Writes events to a log stream, creating the group and stream as the delivering service does. */
  async putLogEvents(account: string, region: string, group: string, stream: string, events: LogEvent[]): Promise<void> {
    if (!events.length) return;
    const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
    const ignoreExists = (e: { name?: string }) => {
      if (e.name !== 'ResourceAlreadyExistsException') throw e;
    };
    const key = `${account}|${region}|${group}|${stream}`;
    if (!this.streams.has(key)) {
      await this.upstream.json(account, 'logs', 'CreateLogGroup', { logGroupName: group }, region).catch(ignoreExists);
      await this.upstream.json(account, 'logs', 'CreateLogStream', { logGroupName: group, logStreamName: stream }, region).catch(ignoreExists);
      this.streams.add(key);
    }
    // PutLogEvents takes at most 10,000 events per call. A stream deleted since is created again.
    for (let i = 0; i < sorted.length; i += 10_000) {
      const put = () => this.upstream.json(account, 'logs', 'PutLogEvents', { logGroupName: group, logStreamName: stream, logEvents: sorted.slice(i, i + 10_000) }, region);
      await put().catch(async (e: { name?: string }) => {
        if (e.name !== 'ResourceNotFoundException') throw e;
        this.streams.delete(key);
        await this.upstream.json(account, 'logs', 'CreateLogGroup', { logGroupName: group }, region).catch(ignoreExists);
        await this.upstream.json(account, 'logs', 'CreateLogStream', { logGroupName: group, logStreamName: stream }, region).catch(ignoreExists);
        this.streams.add(key);
        await put();
      });
    }
    for (const l of this.logListeners) await l(account, region, group, stream, sorted);
  }

  async putObject(account: string, bucket: string, key: string, body: Buffer, metadata?: Record<string, string>): Promise<void> {
    await this.upstream.json(account, 's3', 'PutObject', { Bucket: bucket, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) });
    for (const l of this.objectListeners) await l(account, bucket, key, body);
  }
}
