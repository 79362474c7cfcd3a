// Every call through the gateway becomes a CloudTrail record (moto records none). Records follow
// AWS's CloudTrail record format (eventVersion 1.08) and are served by LookupEvents.
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../gateway/api-error.ts';

export interface UserIdentity {
  type: 'Root' | 'IAMUser' | 'AssumedRole' | 'AWSService' | 'AWSAccount' | 'Unknown';
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: {
    sessionIssuer?: { type: 'Role'; principalId?: string; arn: string; accountId: string; userName: string };
    attributes: { creationDate: string; mfaAuthenticated: 'true' | 'false' };
    /** Credentials of an EC2 instance role: the IMDS version that delivered them. */
    ec2RoleDelivery?: '1.0' | '2.0';
  };
  invokedBy?: string;
}

export interface CloudTrailRecord {
  eventVersion: '1.08';
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources?: { ARN: string; accountId?: string; type?: string }[];
  eventType: 'AwsApiCall' | 'AwsConsoleSignIn' | 'AwsServiceEvent';
  managementEvent: boolean;
  recipientAccountId: string;
  /** The same event as logged in each account a cross-account call concerns. */
  sharedEventID?: string;
  eventCategory: 'Management' | 'Data';
  tlsDetails?: Record<string, string>;
}

/** CloudTrail writes times without milliseconds. */
export function ctTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const READ_ONLY = /^(Get|List|Describe|Head|Lookup|Simulate|Generate(Credential|ServiceLastAccessed)|Test|Search|Select|Check|Batch(Get|Check))/;
export function isReadOnly(operation: string): boolean {
  return READ_ONLY.test(operation);
}

// Values CloudTrail never shows.
const SECRET_PARAM = /secret|password|passphrase|tokencode|authenticationcode|privatekey|plaintext|^body$|^zipfile$|^code$|^payload$/i;

/** CloudTrail writes request parameters with a lower-case first letter (userName, policyArn). */
export function toRequestParameters(params: Record<string, unknown>): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Action' || k === 'Version') continue;
    const name = k.charAt(0).toLowerCase() + k.slice(1);
    out[name] = SECRET_PARAM.test(k) ? 'HIDDEN_DUE_TO_SECURITY_REASONS' : v;
  }
  return Object.keys(out).length ? out : null;
}

export type RecordListener = (record: CloudTrailRecord) => void;

export class CloudTrailStore {
  private byAccount = new Map<string, { records: CloudTrailRecord[]; trimmed: number }>();
  private listeners = new Set<RecordListener>();
  /** Bounded per account so a long `cloud up` session cannot grow without end. */
  constructor(private readonly maxPerAccount = 200_000) {}

  private log(account: string) {
    let l = this.byAccount.get(account);
    if (!l) this.byAccount.set(account, (l = { records: [], trimmed: 0 }));
    return l;
  }

  add(record: CloudTrailRecord): void {
    const l = this.log(record.recipientAccountId);
    l.records.push(record);
    if (l.records.length > this.maxPerAccount) {
      const drop = l.records.length - this.maxPerAccount;
      l.records.splice(0, drop);
      l.trimmed += drop;
    }
    for (const listener of this.listeners) listener(record);
  }

  onRecord(l: RecordListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  all(account: string): readonly CloudTrailRecord[] {
    return this.byAccount.get(account)?.records ?? [];
  }

  /** Sequence number the next record of the account will get (records are numbered from 0). */
  nextSeq(account: string): number {
    const l = this.byAccount.get(account);
    return l ? l.trimmed + l.records.length : 0;
  }

  /** Records with sequence numbers in [from, to), oldest first, with their numbers. */
  range(account: string, from: number, to = Infinity): { seq: number; record: CloudTrailRecord }[] {
    const l = this.byAccount.get(account);
    if (!l) return [];
    const out: { seq: number; record: CloudTrailRecord }[] = [];
    const start = Math.max(0, from - l.trimmed);
    const end = Math.min(l.records.length, to - l.trimmed);
    for (let i = start; i < end; i++) out.push({ seq: i + l.trimmed, record: l.records[i]! });
    return out;
  }

  accounts(): string[] {
    return [...this.byAccount.keys()];
  }

  dropAccount(account: string): void {
    this.byAccount.delete(account);
  }

  newEventId(): string {
    return randomUUID();
  }
}

// ---- LookupEvents (JSON protocol), served from the store ----

interface LookupInput {
  LookupAttributes?: { AttributeKey: string; AttributeValue: string }[];
  StartTime?: number | string;
  EndTime?: number | string;
  EventCategory?: string;
  MaxResults?: number;
  NextToken?: string;
}

/** A LookupEvents request CloudTrail refuses (400, in its JSON protocol). */
export class LookupError extends ApiError {
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

const ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'];

function toMs(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v; // SDK sends epoch seconds
  const d = Date.parse(v);
  return Number.isNaN(d) ? undefined : d;
}

function usernameOf(r: CloudTrailRecord): string | undefined {
  const u = r.userIdentity;
  if (u.type === 'Root') return 'root';
  if (u.type === 'AssumedRole') return u.arn?.split('/').pop();
  return u.userName;
}

function resourcesOf(r: CloudTrailRecord): { ResourceType?: string; ResourceName?: string }[] {
  return (r.resources ?? []).map((res) => ({ ResourceType: res.type, ResourceName: res.ARN }));
}

export function lookupEvents(records: readonly CloudTrailRecord[], input: LookupInput): { Events: unknown[]; NextToken?: string } {
  const attrs = input.LookupAttributes ?? [];
  if (attrs.length > 1) throw new LookupError('InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
  const attr = attrs[0];
  if (attr && !ATTRIBUTE_KEYS.includes(attr.AttributeKey)) {
    throw new LookupError('InvalidLookupAttributesException', `Invalid attribute key: ${attr.AttributeKey}`);
  }
  const max = input.MaxResults ?? 50;
  if (max < 1 || max > 50) throw new LookupError('InvalidMaxResultsException', 'MaxResults must be between 1 and 50.');
  const start = toMs(input.StartTime);
  const end = toMs(input.EndTime);
  if (start !== undefined && end !== undefined && start > end) {
    throw new LookupError('InvalidTimeRangeException', 'Start time must be before end time.');
  }
  const matches = (r: CloudTrailRecord): boolean => {
    if (!r.managementEvent) return false; // LookupEvents returns management events only
    const t = Date.parse(r.eventTime);
    if (start !== undefined && t < start) return false;
    if (end !== undefined && t > end) return false;
    if (!attr) return true;
    const v = attr.AttributeValue;
    switch (attr.AttributeKey) {
      case 'EventId': return r.eventID === v;
      case 'EventName': return r.eventName === v;
      case 'ReadOnly': return String(r.readOnly) === v;
      case 'Username': return usernameOf(r) === v;
      case 'EventSource': return r.eventSource === v;
      case 'AccessKeyId': return r.userIdentity.accessKeyId === v;
      case 'ResourceType': return resourcesOf(r).some((x) => x.ResourceType === v);
      case 'ResourceName': return resourcesOf(r).some((x) => x.ResourceName === v);
    }
    return false;
  };
  // Newest first, as CloudTrail returns them. NextToken is the absolute index to continue from, so
  // records added while a client pages do not shift its place.
  let i = records.length - 1;
  if (input.NextToken) {
    i = Number.parseInt(Buffer.from(input.NextToken, 'base64').toString(), 10);
    if (Number.isNaN(i) || i >= records.length) throw new LookupError('InvalidNextTokenException', 'Invalid NextToken.');
  }
  const found: CloudTrailRecord[] = [];
  for (; i >= 0 && found.length < max; i--) {
    const r = records[i]!;
    if (matches(r)) found.push(r);
  }
  const more = i >= 0;
  return {
    Events: found.map((r) => ({
      EventId: r.eventID,
      EventName: r.eventName,
      ReadOnly: String(r.readOnly),
      AccessKeyId: r.userIdentity.accessKeyId,
      EventTime: Date.parse(r.eventTime) / 1000,
      EventSource: r.eventSource,
      Username: usernameOf(r),
      Resources: resourcesOf(r),
      CloudTrailEvent: JSON.stringify(r),
    })),
    ...(more ? { NextToken: Buffer.from(String(i)).toString('base64') } : {}),
  };
}
