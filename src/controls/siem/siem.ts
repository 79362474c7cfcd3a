// The SIEM as a running component: reads its sources incrementally (S3 and CloudWatch Logs, through the AWS SDK
// like any SIEM integration), evaluates the events against its rules, keeps alerts (deduplicated, throttled),
// and notifies its channels through SNS. A state file keeps the checkpoints and the alerts across restarts.
//
//   const siem = new Siem(loadSiemConfig('siem/siem.yml'), { endpoint, credentials, region, stateFile });
//   const fresh = await siem.poll();     // read what is new, evaluate, notify; the alerts this poll raised
//   siem.alerts();                      // every alert (also those of earlier runs kept in the state file)
//   siem.rules();  siem.sources();  siem.channels();  siem.problems();
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { SEVERITIES, loadSiemConfig, substitute, usesAccountId, type ChannelConfig, type ChannelSeverity, type ConfigVars, type SiemConfig } from './config.ts';
import { SiemEngine, type Alert } from './engine.ts';
import type { SiemEvent } from './events.ts';
import { alertMessage, alertSubject, summaryMessage } from './notify.ts';
import { BUNDLED_RULES_DIR } from './pack.ts';
import {
  describeLocation,
  emptyCheckpoint,
  explainSourceError,
  readLogs,
  readS3,
  type ResolvedSource,
  type SourceCheckpoint,
  type SourceStatus,
} from './sources.ts';
import { SigmaRuleError } from './sigma/errors.ts';
import { loadRuleSet, type RuleSet, type SigmaRule } from './sigma/ruleset.ts';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SiemOptions {
  /** An AWS-compatible endpoint (the lab cloud's gateway); default: AWS. */
  readonly endpoint?: string;
  /** Default: the SDK's credential chain. */
  readonly credentials?: AwsCredentials;
  /** Region of the SIEM (sources and channels without their own). Default AWS_REGION, else us-east-1. */
  readonly region?: string;
  /** JSON file keeping checkpoints and alerts across restarts; without it, the state lives in memory only. */
  readonly stateFile?: string;
  /** For `${accountId}` in the configuration; default: sts:GetCallerIdentity when the configuration uses it. */
  readonly accountId?: string;
  /** Names the SIEM in notifications. */
  readonly name?: string;
  /** A rule set to use instead of the configuration's (tests, tools). */
  readonly ruleSet?: RuleSet;
  /** Called on every poll with the new events (deduplicated, in time order) before they are evaluated. */
  readonly onEvents?: (events: readonly SiemEvent[]) => void;
}

export interface Notification {
  readonly channel: string;
  readonly topicArn: string;
  /** Wall time (ISO). */
  readonly at: string;
  readonly messageId?: string;
  readonly error?: string;
  /** Sent as part of a summary message (the channel's per-poll limit was reached). */
  readonly summary?: boolean;
}

/** An alert as the SIEM keeps it: the engine's alert plus its notifications. */
export interface SiemAlert extends Alert {
  notifications: Notification[];
}

export interface ChannelStatus {
  readonly name: string;
  readonly type: 'sns';
  /** The topic, placeholders replaced once known. */
  topicArn: string;
  readonly minSeverity: ChannelSeverity;
  enabled: boolean;
  sent: number;
  failed: number;
  lastError?: string;
}

export interface RuleInfo {
  readonly id: string;
  readonly name?: string;
  readonly title: string;
  readonly kind: 'detection' | 'correlation';
  readonly level: string;
  readonly severity: string;
  readonly status?: string;
  readonly tags: readonly string[];
  readonly attack: { readonly tactics: readonly string[]; readonly techniques: readonly string[] };
  readonly author?: string;
  readonly license?: string;
  readonly attribution?: string;
  readonly url?: string;
  /** File the rule came from (relative to its folder). */
  readonly source: string;
  /** `bundled`, or the folder / configuration it came from. */
  readonly pack: string;
  /** Raises alerts on its own (false: used only by correlations, or disabled). */
  readonly alerting: boolean;
  readonly disabled?: string;
}

export interface SiemStats {
  polls: number;
  events: number;
  /** CloudTrail events seen twice (e.g. a trail read from S3 and from CloudWatch Logs) and counted once. */
  duplicates: number;
  alerts: number;
  lastPoll?: string;
}

interface StateFile {
  version: 1;
  accountId?: string;
  stats: SiemStats;
  sources: Record<string, { checkpoint: SourceCheckpoint; status: SourceStatus }>;
  /** CloudTrail eventIDs recently read, with their event time. */
  cloudtrailIds: Record<string, number>;
  alerts: SiemAlert[];
}

const STATE_VERSION = 1;
const MAX_ALERTS_KEPT = 5000;
const CLOUDTRAIL_ID_WINDOW_MS = 2 * 3600_000;
const RANK: Record<ChannelSeverity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

const sourceKey = (s: { name: string; type: string }, location: string) => `${s.name}|${s.type}|${location}`;
const groupKey = (a: Alert) => `${a.rule.id}\u0000${JSON.stringify(a.group)}`;

export class Siem {
  readonly config: SiemConfig;
  readonly region: string;
  /** The compiled rules (bundled pack, workspace folders, custom rules). */
  readonly ruleSet: RuleSet;
  private readonly engine: SiemEngine;
  private readonly ruleProblems: string[];
  private readonly state: StateFile;
  private readonly statuses: SourceStatus[];
  private readonly channelStatus: ChannelStatus[];
  private readonly s3Clients = new Map<string, S3Client>();
  private readonly logsClients = new Map<string, CloudWatchLogsClient>();
  private readonly snsClients = new Map<string, SNSClient>();
  private vars: ConfigVars | undefined;
  private running: Promise<SiemAlert[]> | undefined;
  /** Alerts of this poll, as the engine raises them. */
  private raised: Alert[] = [];
  /** Engine alerts merged into an alert kept from an earlier run. */
  private readonly aliases = new Map<Alert, SiemAlert>();
  private readonly byGroup = new Map<string, SiemAlert>();

  constructor(config: SiemConfig, private readonly options: SiemOptions = {}) {
    this.config = config;
    this.region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
    const { ruleSet, problems } = options.ruleSet ? { ruleSet: options.ruleSet, problems: options.ruleSet.errors.map((e) => e.message) } : buildRuleSet(config);
    this.ruleSet = ruleSet;
    this.ruleProblems = problems;
    this.engine = new SiemEngine(ruleSet, {
      minLevel: config.alerting.minLevel,
      dedupWindowMs: config.alerting.dedupWindowMs,
      throttle: config.alerting.throttle,
      maxEventsPerAlert: config.alerting.maxEventsPerAlert ?? 20,
      onAlert: (a, change) => this.onEngineAlert(a, change),
    });
    this.state = this.loadState();
    this.statuses = config.sources.map((s) => {
      const configured = describeLocation(s);
      const kept = Object.values(this.state.sources).find((x) => x.status.name === s.name && x.status.type === s.type && x.status.configured === configured);
      return kept?.status ?? { name: s.name, type: s.type, location: configured, configured, region: s.region ?? this.region, enabled: s.enabled !== false, events: 0, objects: 0, skipped: 0 };
    });
    this.channelStatus = config.channels.map((c) => ({ name: c.name, type: 'sns', topicArn: c.topicArn, minSeverity: c.minSeverity ?? 'low', enabled: c.enabled !== false, sent: 0, failed: 0 }));
    for (const a of this.state.alerts) this.byGroup.set(groupKey(a), a);
  }

  // ---- views ----

  /** Every alert, oldest first (including those of earlier runs kept in the state file). */
  alerts(): readonly SiemAlert[] {
    return this.state.alerts;
  }

  rules(): RuleInfo[] {
    return this.ruleSet.rules.map((r) => ruleInfo(r, this.config));
  }

  sources(): readonly SourceStatus[] {
    return this.statuses;
  }

  channels(): readonly ChannelStatus[] {
    return this.channelStatus;
  }

  /** Rule errors (each naming its file and field) and configuration warnings. */
  problems(): readonly string[] {
    return this.ruleProblems;
  }

  /** Reads a configuration file and builds the SIEM (throws SiemConfigError for an invalid file). */
  static fromFile(file: string, options: SiemOptions = {}): Siem {
    return new Siem(loadSiemConfig(file), options);
  }

  get stats(): Readonly<SiemStats> {
    return this.state.stats;
  }

  // ---- polling ----

  /** Reads what is new in every source, evaluates it, notifies the channels; returns the alerts raised. */
  poll(): Promise<SiemAlert[]> {
    const run = (this.running ?? Promise.resolve([])).catch(() => []).then(() => this.pollOnce());
    this.running = run;
    return run;
  }

  private async pollOnce(): Promise<SiemAlert[]> {
    const vars = await this.resolveVars();
    const now = new Date().toISOString();
    this.config.channels.forEach((ch, i) => {
      try {
        this.channelStatus[i]!.topicArn = substitute(ch.topicArn, vars, `channels[${i}].topicArn`);
      } catch {
        // reported when an alert is to be sent
      }
    });
    const batch: SiemEvent[] = [];
    for (let i = 0; i < this.config.sources.length; i++) {
      const cfg = this.config.sources[i]!;
      const status = this.statuses[i]!;
      status.lastPoll = now;
      if (cfg.enabled === false) continue;
      let resolved: ResolvedSource;
      try {
        const s3 = cfg.s3 && { bucket: substitute(cfg.s3.bucket, vars, `sources[${i}].s3.bucket`), prefix: cfg.s3.prefix === undefined ? undefined : substitute(cfg.s3.prefix, vars, `sources[${i}].s3.prefix`) };
        const logGroup = cfg.logGroup === undefined ? undefined : substitute(cfg.logGroup, vars, `sources[${i}].logGroup`);
        const logGroupPrefix = cfg.logGroupPrefix === undefined ? undefined : substitute(cfg.logGroupPrefix, vars, `sources[${i}].logGroupPrefix`);
        const partial = { ...cfg, s3, logGroup, logGroupPrefix };
        resolved = { ...partial, location: describeLocation(partial) };
        status.location = resolved.location;
      } catch (e) {
        status.error = `${this.config.file}: ${(e as Error).message}`;
        continue;
      }
      const key = sourceKey(cfg, resolved.location);
      const entry = (this.state.sources[key] ??= { checkpoint: emptyCheckpoint(cfg), status });
      entry.status = status;
      const first = !Object.keys(entry.checkpoint.kind === 's3' ? entry.checkpoint.partitions : entry.checkpoint.groups).length;
      // Work on a copy: a failed read leaves the checkpoint as it was.
      const checkpoint = structuredClone(entry.checkpoint);
      try {
        const region = cfg.region ?? this.region;
        const res =
          checkpoint.kind === 's3'
            ? await readS3(resolved, this.s3(region), checkpoint, first)
            : await readLogs(resolved, this.logs(region), checkpoint, first);
        entry.checkpoint = checkpoint;
        status.events += res.events.length;
        status.objects += res.objects;
        status.skipped += res.skipped;
        status.error = undefined;
        for (const e of res.events) {
          batch.push(e);
          if (Number.isFinite(e.ts) && (!status.newestEvent || e.time > status.newestEvent)) status.newestEvent = e.time;
        }
      } catch (e) {
        status.error = explainSourceError(resolved, e);
      }
    }

    // A trail read from S3 and from CloudWatch Logs delivers each event twice: count it once.
    const events: SiemEvent[] = [];
    let newest = 0;
    for (const e of batch) {
      const id = e.source === 'cloudtrail' ? e.fields['eventID'] : undefined;
      if (typeof id === 'string') {
        if (id in this.state.cloudtrailIds) {
          this.state.stats.duplicates++;
          continue;
        }
        this.state.cloudtrailIds[id] = Number.isFinite(e.ts) ? e.ts : 0;
      }
      if (Number.isFinite(e.ts) && e.ts > newest) newest = e.ts;
      events.push(e);
    }
    for (const [id, t] of Object.entries(this.state.cloudtrailIds)) if (t < newest - CLOUDTRAIL_ID_WINDOW_MS) delete this.state.cloudtrailIds[id];

    events.sort((a, b) => (a.ts || 0) - (b.ts || 0));
    this.options.onEvents?.(events);
    this.raised = [];
    this.engine.pushAll(events);
    const fresh = this.raised.map((a) => this.keep(a)).filter((a): a is SiemAlert => !!a);
    this.raised = [];
    await this.notify(fresh, vars);

    this.state.stats.polls++;
    this.state.stats.events += events.length;
    this.state.stats.alerts += fresh.length;
    this.state.stats.lastPoll = now;
    this.saveState();
    return fresh;
  }

  private onEngineAlert(a: Alert, change: 'new' | 'update'): void {
    if (change === 'new') {
      this.raised.push(a);
      return;
    }
    // A hit merged by the engine into an alert that continues one of an earlier run.
    const kept = this.aliases.get(a);
    if (kept) {
      kept.hits++;
      if (a.lastSeen > kept.lastSeen) kept.lastSeen = a.lastSeen;
      const last = a.events[a.events.length - 1];
      if (last && !kept.events.includes(last)) {
        if (kept.events.length < (this.config.alerting.maxEventsPerAlert ?? 20)) kept.events.push(last);
        else kept.eventsOmitted++;
      }
    }
  }

  /** Stores a new engine alert, or merges it into the same rule and group's alert of an earlier run. */
  private keep(a: Alert): SiemAlert | undefined {
    const k = groupKey(a);
    const prev = this.byGroup.get(k);
    const window = this.config.alerting.dedupWindowMs ?? 15 * 60_000;
    if (prev && !this.isLive(prev) && Math.abs(Date.parse(a.firstSeen) - Date.parse(prev.lastSeen)) <= window) {
      prev.hits += a.hits;
      if (a.lastSeen > prev.lastSeen) prev.lastSeen = a.lastSeen;
      for (const e of a.events) if (prev.events.length < (this.config.alerting.maxEventsPerAlert ?? 20)) prev.events.push(e);
      this.aliases.set(a, prev);
      return undefined;
    }
    const stored = a as SiemAlert;
    stored.notifications = [];
    this.state.alerts.push(stored);
    this.live.add(stored);
    this.byGroup.set(k, stored);
    if (this.state.alerts.length > MAX_ALERTS_KEPT) this.state.alerts.splice(0, this.state.alerts.length - MAX_ALERTS_KEPT);
    return stored;
  }

  /** Alerts raised by this process's engine (the engine deduplicates those itself). */
  private readonly live = new WeakSet<SiemAlert>();
  private isLive(a: SiemAlert): boolean {
    return this.live.has(a);
  }

  // ---- notifications ----

  private async notify(alerts: SiemAlert[], vars: ConfigVars): Promise<void> {
    if (!alerts.length) return;
    for (let i = 0; i < this.config.channels.length; i++) {
      const ch = this.config.channels[i]!;
      const status = this.channelStatus[i]!;
      if (ch.enabled === false) continue;
      const min = RANK[ch.minSeverity ?? 'low'];
      const wanted = alerts.filter((a) => RANK[a.severity] >= min).sort((a, b) => RANK[b.severity] - RANK[a.severity]);
      if (!wanted.length) continue;
      let topicArn: string;
      try {
        topicArn = substitute(ch.topicArn, vars, `channels[${i}].topicArn`);
        status.topicArn = topicArn;
      } catch (e) {
        status.lastError = `${this.config.file}: ${(e as Error).message}`;
        status.failed += wanted.length;
        continue;
      }
      const limit = ch.maxMessagesPerPoll ?? 10;
      const one = wanted.slice(0, limit);
      const rest = wanted.slice(limit);
      for (const a of one) await this.publish(ch, status, topicArn, [a], alertSubject(a), alertMessage(a, { siem: this.options.name }));
      if (rest.length) {
        const { subject, message } = summaryMessage(rest);
        await this.publish(ch, status, topicArn, rest, subject, message, true);
      }
    }
  }

  private async publish(ch: ChannelConfig, status: ChannelStatus, topicArn: string, alerts: SiemAlert[], subject: string, message: string, summary = false): Promise<void> {
    const at = new Date().toISOString();
    const region = ch.region ?? topicArn.split(':')[3] ?? this.region;
    try {
      const out = await this.sns(region).send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
      status.sent++;
      status.lastError = undefined;
      for (const a of alerts) a.notifications.push({ channel: ch.name, topicArn, at, messageId: out.MessageId, ...(summary ? { summary } : {}) });
    } catch (e) {
      const err = e as { name?: string; message?: string };
      const msg = err.name === 'NotFound' || err.name === 'NotFoundException' ? `topic ${topicArn} does not exist` : `${err.name ?? 'Error'}: ${err.message ?? String(e)}`;
      status.failed++;
      status.lastError = msg;
      for (const a of alerts) a.notifications.push({ channel: ch.name, topicArn, at, error: msg, ...(summary ? { summary } : {}) });
    }
  }

  // ---- AWS clients ----

  private clientConfig(region: string): Record<string, unknown> {
    const o = this.options;
    return { region, maxAttempts: 2, ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.credentials ? { credentials: o.credentials } : {}) };
  }

  private s3(region: string): S3Client {
    let c = this.s3Clients.get(region);
    if (!c) this.s3Clients.set(region, (c = new S3Client({ ...this.clientConfig(region), ...(this.options.endpoint ? { forcePathStyle: true } : {}) })));
    return c;
  }

  private logs(region: string): CloudWatchLogsClient {
    let c = this.logsClients.get(region);
    if (!c) this.logsClients.set(region, (c = new CloudWatchLogsClient(this.clientConfig(region))));
    return c;
  }

  private sns(region: string): SNSClient {
    let c = this.snsClients.get(region);
    if (!c) this.snsClients.set(region, (c = new SNSClient(this.clientConfig(region))));
    return c;
  }

  private async resolveVars(): Promise<ConfigVars> {
    if (this.vars) return this.vars;
    let accountId = this.options.accountId ?? this.state.accountId;
    if (!accountId && usesAccountId(this.config)) {
      try {
        const sts = new STSClient(this.clientConfig(this.region));
        accountId = (await sts.send(new GetCallerIdentityCommand({}))).Account;
        sts.destroy();
      } catch {
        // left unresolved: the sources and channels that need it report it
      }
    }
    this.state.accountId = accountId;
    this.vars = { accountId, region: this.region };
    return this.vars;
  }

  /** Releases the SDK clients' sockets. */
  close(): void {
    for (const c of [...this.s3Clients.values(), ...this.logsClients.values(), ...this.snsClients.values()]) c.destroy();
    this.s3Clients.clear();
    this.logsClients.clear();
    this.snsClients.clear();
  }

  // ---- state file ----

  private loadState(): StateFile {
    const empty: StateFile = { version: STATE_VERSION, stats: { polls: 0, events: 0, duplicates: 0, alerts: 0 }, sources: {}, cloudtrailIds: {}, alerts: [] };
    const file = this.options.stateFile;
    if (!file || !existsSync(file)) return empty;
    let data: StateFile;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
    } catch (e) {
      throw new Error(`the SIEM state file ${file} cannot be read (${(e as Error).message}): delete it to start over (every source is then read again from the beginning)`);
    }
    if (data.version !== STATE_VERSION || typeof data.sources !== 'object') {
      throw new Error(`the SIEM state file ${file} has an unknown format: delete it to start over (every source is then read again from the beginning)`);
    }
    if (this.options.accountId && data.accountId && data.accountId !== this.options.accountId) {
      // Another account: its checkpoints mean nothing here.
      return empty;
    }
    for (const a of data.alerts) a.notifications ??= [];
    return { ...empty, ...data };
  }

  private saveState(): void {
    const file = this.options.stateFile;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}

function buildRuleSet(config: SiemConfig): { ruleSet: RuleSet; problems: string[] } {
  const paths = [...(config.rules.bundled ? [BUNDLED_RULES_DIR] : []), ...config.rules.folders];
  // The configuration's own folders may not lead out of its folder, links included (the bundled pack may).
  const own = new Set(config.rules.folders);
  const ruleSet = loadRuleSet(paths, { disabled: config.rules.disable, texts: config.rules.custom, within: (p) => (own.has(p) ? config.baseDir : undefined) });
  const problems = ruleSet.errors.map((e) => {
    const custom = config.rules.custom.find((c) => e.file === c.name || e.file.startsWith(`${c.name}#`));
    return custom ? new SigmaRuleError(custom.name, e.field, e.detail, custom.line).message : e.message;
  });
  for (const id of config.rules.disable.keys()) {
    if (!ruleSet.get(id)) problems.push(`${config.file}: rules.disable: no rule has the id or name "${id}"`);
  }
  return { ruleSet, problems };
}

function ruleInfo(r: SigmaRule, config: SiemConfig): RuleInfo {
  const custom = config.rules.custom.some((c) => r.source === c.name || r.source.startsWith(`${c.name}#`));
  return {
    id: r.id,
    name: r.name,
    title: r.title,
    kind: r.kind,
    level: r.level,
    severity: r.severity,
    status: r.status,
    tags: r.tags,
    attack: r.attack,
    author: r.author,
    license: r.license,
    attribution: r.pack?.attribution,
    url: r.url,
    source: r.source,
    pack: custom ? config.file : r.pack?.name ?? (config.rules.folders.length ? 'workspace rules' : 'rules'),
    alerting: r.standalone,
    disabled: r.disabled,
  };
}

export { SEVERITIES };
