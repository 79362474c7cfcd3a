// IAM's paginated lists as AWS serves them. moto 5.2 ignores MaxItems/Marker on most IAM lists and
// leaves IsTruncated out of several (ListGroups, ListAccessKeys, ListInstanceProfiles...), which
// crashes clients that page (Pacu, cloudsplaining). The gateway asks moto for the whole list and
// pages it itself: `IsTruncated` always, `Marker` when truncated, MaxItems 1-1000 (default 100).
// The tables come from botocore's paginators-1.json for IAM (result keys, in order).
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../gateway/api-error.ts';
import { xmlEscape, type Reply } from '../../gateway/extension.ts';
import { FORWARD_MARKER } from '../../gateway/protocol/wire.ts';
import { protocolErrorFor } from '../../gateway/protocol/target-errors.ts';
import type { IamCall } from './index.ts';

export const PAGINATED: Record<string, string[]> = {
  GetAccountAuthorizationDetails: ['UserDetailList', 'GroupDetailList', 'RoleDetailList', 'Policies'],
  GetGroup: ['Users'],
  ListAccessKeys: ['AccessKeyMetadata'],
  ListAccountAliases: ['AccountAliases'],
  ListAttachedGroupPolicies: ['AttachedPolicies'],
  ListAttachedRolePolicies: ['AttachedPolicies'],
  ListAttachedUserPolicies: ['AttachedPolicies'],
  ListEntitiesForPolicy: ['PolicyGroups', 'PolicyUsers', 'PolicyRoles'],
  ListGroupPolicies: ['PolicyNames'],
  ListGroups: ['Groups'],
  ListGroupsForUser: ['Groups'],
  ListInstanceProfileTags: ['Tags'],
  ListInstanceProfiles: ['InstanceProfiles'],
  ListInstanceProfilesForRole: ['InstanceProfiles'],
  ListMFADeviceTags: ['Tags'],
  ListMFADevices: ['MFADevices'],
  ListOpenIDConnectProviderTags: ['Tags'],
  ListPolicies: ['Policies'],
  ListPolicyTags: ['Tags'],
  ListPolicyVersions: ['Versions'],
  ListRolePolicies: ['PolicyNames'],
  ListRoleTags: ['Tags'],
  ListRoles: ['Roles'],
  ListSAMLProviderTags: ['Tags'],
  ListSSHPublicKeys: ['SSHPublicKeys'],
  ListServerCertificateTags: ['Tags'],
  ListServerCertificates: ['ServerCertificateMetadataList'],
  ListSigningCertificates: ['Certificates'],
  ListUserPolicies: ['PolicyNames'],
  ListUserTags: ['Tags'],
  ListUsers: ['Users'],
  ListVirtualMFADevices: ['VirtualMFADevices'],
};

/** moto's own page size where it pages (ListRoles, ListPolicies...): large enough to get everything. */
const ALL = '1000000';

// ---- a small XML element scanner (moto's serializer: no CDATA, no comments, text escaped) ----

export interface Element { name: string; start: number; end: number; innerStart: number; innerEnd: number }

/** The direct child elements of xml[from, to). */
export function children(xml: string, from: number, to: number): Element[] {
  const out: Element[] = [];
  const re = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;
  re.lastIndex = from;
  let depth = 0;
  let open: { name: string; start: number; innerStart: number } | undefined;
  for (let m = re.exec(xml); m && m.index < to; m = re.exec(xml)) {
    if (m[0].startsWith('<?')) continue;
    const closing = m[1] === '/';
    const selfClosing = m[3] === '/';
    if (!closing && selfClosing) {
      if (depth === 0) out.push({ name: m[2]!, start: m.index, end: re.lastIndex, innerStart: re.lastIndex, innerEnd: re.lastIndex });
    } else if (!closing) {
      if (depth === 0) open = { name: m[2]!, start: m.index, innerStart: re.lastIndex };
      depth++;
    } else {
      depth--;
      if (depth === 0 && open) {
        out.push({ name: open.name, start: open.start, end: re.lastIndex, innerStart: open.innerStart, innerEnd: m.index });
        open = undefined;
      }
    }
  }
  return out;
}

/** The element `<op>Result` of a query-protocol response, or undefined. */
export function resultElement(xml: string, operation: string): Element | undefined {
  const root = children(xml, 0, xml.length).find((e) => e.name === `${operation}Response`);
  return root ? children(xml, root.innerStart, root.innerEnd).find((e) => e.name === `${operation}Result`) : undefined;
}

/** The text of a direct child element of `el` (first), unescaped. */
export function childText(xml: string, el: Element, name: string): string | undefined {
  const c = children(xml, el.innerStart, el.innerEnd).find((e) => e.name === name);
  return c ? unescapeXml(xml.slice(c.innerStart, c.innerEnd)) : undefined;
}

const unescapeXml = (s: string): string =>
  s.replace(/&lt;|&gt;|&amp;|&apos;|&quot;/g, (e) => ({ '&lt;': '<', '&gt;': '>', '&amp;': '&', '&apos;': "'", '&quot;': '"' })[e]!);

// ---- markers ----

// A marker names the listing it continues (a snapshot of the complete list, kept a few minutes, as
// AWS's markers continue one listing) and the offset in it. A marker whose snapshot has expired
// continues in a fresh listing at the same offset.
interface Snapshot { account: string; operation: string; params: string; layout: (string | { list: string })[]; items: { key: string; member: string }[]; expires: number }
const SNAPSHOT_MS = 5 * 60_000;
const MAX_SNAPSHOTS = 32;
const snapshots = new Map<string, Snapshot>();

const encodeMarker = (snapshot: string, offset: number): string => Buffer.from(`seclab-iam:${snapshot}:${offset}`).toString('base64');
function decodeMarker(marker: string): { snapshot: string; offset: number } {
  const m = /^seclab-iam:([0-9a-f]{32}):(\d+)$/.exec(Buffer.from(marker, 'base64').toString('utf8'));
  if (!m) throw new ApiError(400, 'InvalidInput', 'Invalid Marker.');
  return { snapshot: m[1]!, offset: Number(m[2]) };
}

/** MaxItems as IAM validates it: 1 to 1000, default 100. */
export function maxItemsOf(params: Record<string, unknown>): number {
  const raw = params['MaxItems'];
  if (raw === undefined || raw === '') return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new ApiError(400, 'ValidationError', `1 validation error detected: Value '${String(raw)}' at 'maxItems' failed to satisfy constraint: Member must have value ${n < 1 ? 'greater than or equal to 1' : 'less than or equal to 1000'}`);
  }
  return n;
}

/** Query-protocol form encoding of decoded parameters (lists as X.member.N). */
export function encodeForm(params: Record<string, unknown>): URLSearchParams {
  const form = new URLSearchParams();
  const put = (prefix: string, v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => put(`${prefix}.member.${i + 1}`, x));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) put(`${prefix}.${k}`, x);
    else form.append(prefix, String(v));
  };
  for (const [k, v] of Object.entries(params)) put(k, v);
  return form;
}

/** The gateway's own query-protocol request to the target (as the account; moto checks no signature). */
export async function motoQuery(ctx: IamCall, operation: string, params: Record<string, unknown>): Promise<{ status: number; headers: Record<string, string | string[]>; xml: string }> {
  const form = encodeForm({ Action: operation, Version: '2010-05-08', ...params });
  const day = ctx.iam.clock.now().toISOString().slice(0, 10).replace(/-/g, '');
  const res = await ctx.iam.target.forward(ctx.cred.account, {
    method: 'POST',
    url: `/?${FORWARD_MARKER}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIASECLABGATEWAY000/${day}/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
      'user-agent': 'seclab-gateway',
    },
    body: Buffer.from(form.toString()),
  });
  return { status: res.status, headers: res.headers, xml: res.body.toString('utf8') };
}

/** The target's error as the gateway's own (so it is recorded and answered in IAM's format, never HTML). */
export function targetError(ctx: IamCall, up: { status: number; headers: Record<string, string | string[]>; xml: string }): ApiError {
  // Not in IAM's format (moto's HTML 500s): the gateway's translation of target errors.
  const translated = protocolErrorFor(ctx.call, { status: up.status, headers: up.headers, body: Buffer.from(up.xml) }, ctx.requestId);
  const xml = translated ? translated.body.toString('utf8') : up.xml;
  const status = translated ? translated.status : up.status;
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  if (code) return new ApiError(status >= 400 ? status : 500, code, unescapeXml(message ?? ''));
  return new ApiError(500, 'ServiceFailure', 'The lab cloud\'s emulator failed to answer this request.');
}

export type MemberRewrite = (key: string, member: string) => string | Promise<string>;

/** Tag lists moto 5.2 lacks as operations, read from the entity they belong to. */
const NESTED: Record<string, (ctx: IamCall) => Promise<Snapshot['items']>> = {
  async ListInstanceProfileTags(ctx) {
    const up = await motoQuery(ctx, 'GetInstanceProfile', { InstanceProfileName: ctx.call.params['InstanceProfileName'] });
    const result = up.status < 300 ? resultElement(up.xml, 'GetInstanceProfile') : undefined;
    if (!result) throw targetError(ctx, up);
    const profile = children(up.xml, result.innerStart, result.innerEnd).find((e) => e.name === 'InstanceProfile');
    return profile ? tagsOf(up.xml, profile) : [];
  },
  async ListMFADeviceTags(ctx) {
    // moto drops MFA devices' tags: the gateway keeps them with the device (see mfa.ts).
    const serial = String(ctx.call.params['SerialNumber'] ?? '');
    const device = ctx.iam.mfa.get(ctx.cred.account, serial);
    if (!device) throw new ApiError(404, 'NoSuchEntity', `MFA device with serial number ${serial} cannot be found.`);
    return (device.tags ?? []).map((t) => ({ key: 'Tags', member: `<member><Key>${xmlEscape(t.Key)}</Key><Value>${xmlEscape(t.Value)}</Value></member>` }));
  },
};

function tagsOf(xml: string, el: Element): Snapshot['items'] {
  const tags = children(xml, el.innerStart, el.innerEnd).find((e) => e.name === 'Tags');
  return tags ? children(xml, tags.innerStart, tags.innerEnd).map((m) => ({ key: 'Tags', member: xml.slice(m.start, m.end) })) : [];
}

/** Operations whose UserName defaults to the calling user. */
const OWN_USER = new Set(['ListAccessKeys', 'ListMFADevices', 'ListSigningCertificates', 'ListSSHPublicKeys']);

function emptyList(ctx: IamCall, keys: string[]): Reply {
  const op = ctx.call.operation;
  const inner = `${keys.map((k) => `<${k}/>`).join('')}<IsTruncated>false</IsTruncated>`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': ctx.requestId }, body: `<${op}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${op}Result>${inner}</${op}Result><ResponseMetadata><RequestId>${ctx.requestId}</RequestId></ResponseMetadata></${op}Response>` };
}

/** The complete list from the target, split into members, and the rest of its result in order. */
async function listAll(ctx: IamCall, keys: string[], params: Record<string, unknown>, paramsKey: string, rewrite?: MemberRewrite): Promise<Snapshot> {
  const operation = ctx.call.operation;
  const up = await motoQuery(ctx, operation, params);
  const result = up.status < 300 ? resultElement(up.xml, operation) : undefined;
  if (!result) throw targetError(ctx, up);
  const xml = up.xml;
  const items: Snapshot['items'] = [];
  const layout: Snapshot['layout'] = [];
  for (const k of children(xml, result.innerStart, result.innerEnd)) {
    if (k.name === 'IsTruncated' || k.name === 'Marker') continue;
    if (!keys.includes(k.name)) {
      layout.push(xml.slice(k.start, k.end));
      continue;
    }
    if (!layout.some((l) => typeof l !== 'string' && l.list === k.name)) layout.push({ list: k.name });
    for (const m of children(xml, k.innerStart, k.innerEnd)) {
      const member = xml.slice(m.start, m.end);
      items.push({ key: k.name, member: rewrite ? await rewrite(k.name, member) : member });
    }
  }
  for (const key of keys) if (!layout.some((l) => typeof l !== 'string' && l.list === key)) layout.push({ list: key });
  return { account: ctx.cred.account, operation, params: paramsKey, layout, items, expires: 0 };
}

/**
 * Answers a paginated IAM list: fetches the complete list from the target (rewriting each member,
 * see `rewrite`), pages it by MaxItems and Marker. Errors of the target become IAM errors.
 */
export async function servePaginated(ctx: IamCall, rewrite?: MemberRewrite): Promise<Reply> {
  const { call, requestId } = ctx;
  const keys = PAGINATED[call.operation]!;
  const maxItems = maxItemsOf(call.params);
  const marker = call.params['Marker'];
  const { snapshot: snapId, offset } = marker === undefined || marker === '' ? { snapshot: '', offset: 0 } : decodeMarker(String(marker));
  const params: Record<string, unknown> = { ...call.params, MaxItems: ALL };
  delete params['Marker'];
  if (OWN_USER.has(call.operation) && (params['UserName'] === undefined || params['UserName'] === '')) {
    // Without UserName the caller's own user is meant; moto would look the gateway's key up instead.
    if (ctx.cred.kind === 'user' || ctx.cred.kind === 'session') params['UserName'] = ctx.cred.userName;
    // The root user has no certificates, SSH keys or API-visible MFA devices in the lab cloud.
    else if (ctx.cred.kind === 'root') return emptyList(ctx, keys);
  }
  const paramsKey = JSON.stringify(params);
  const now = Date.now();
  for (const [id, snap] of snapshots) if (snap.expires < now) snapshots.delete(id);
  let snap = snapshots.get(snapId);
  let id = snapId;
  if (!snap || snap.account !== ctx.cred.account || snap.operation !== call.operation || snap.params !== paramsKey) {
    const nested = NESTED[call.operation];
    snap = nested
      ? { account: ctx.cred.account, operation: call.operation, params: paramsKey, layout: [{ list: 'Tags' }], items: await nested(ctx), expires: 0 }
      : await listAll(ctx, keys, params, paramsKey, rewrite);
    id = randomBytes(16).toString('hex');
  }
  const { items } = snap;
  const page = items.slice(offset, offset + maxItems);
  const truncated = offset + maxItems < items.length;
  const byKey = new Map<string, string[]>(keys.map((k) => [k, []]));
  for (const it of page) byKey.get(it.key)!.push(it.member);
  const listXml = (key: string) => {
    const ms = byKey.get(key)!;
    return ms.length ? `<${key}>${ms.join('')}</${key}>` : `<${key}/>`;
  };
  let inner = '';
  for (const part of snap.layout) inner += typeof part === 'string' ? part : listXml(part.list);
  inner += `<IsTruncated>${truncated}</IsTruncated>`;
  if (truncated) {
    // The listing is kept for the pages that follow.
    snap.expires = now + SNAPSHOT_MS;
    snapshots.delete(id);
    snapshots.set(id, snap);
    while (snapshots.size > MAX_SNAPSHOTS) snapshots.delete(snapshots.keys().next().value!);
    inner += `<Marker>${encodeMarker(id, offset + maxItems)}</Marker>`;
  }
  const body = `<${call.operation}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${call.operation}Result>${inner}</${call.operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${call.operation}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}
