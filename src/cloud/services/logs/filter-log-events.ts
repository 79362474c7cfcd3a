// FilterLogEvents with the whole filter-pattern syntax. moto 5.2 matches plain terms and quoted
// phrases only, and lets every other pattern (space-delimited `[a, b=REJECT]`, JSON `{ $.x = 1 }`,
// `?` alternatives, `-` exclusions, `%regex%`) match every event; a responder that trusts its pattern
// would then act on everything. The gateway reads the events from the target without the pattern
// and applies the same engine as metric and subscription filters.
//
// Paging: FilterLogEvents may return fewer events than `limit` with a nextToken (AWS documents
// that). The token handed out is seclab's own: the target's page token plus how many matching events
// of that page were already returned.
import { jsonResult, type ServiceExtension } from '../../gateway/extension.ts';
import { ApiError } from '../../gateway/api-error.ts';
import { compile } from './filter-pattern/index.ts';
import type { Upstream } from '../../gateway/upstream.ts';

interface Event { logStreamName?: string; timestamp?: number; message?: string; ingestionTime?: number; eventId?: string }
interface Page { events?: Event[]; searchedLogStreams?: unknown[]; nextToken?: string }
interface Cursor { t?: string; s: number }

const PREFIX = 'seclab1.';
/** Target pages read per call at most; the caller continues with the token. */
const MAX_PAGES = 20;

const encode = (c: Cursor): string => PREFIX + Buffer.from(JSON.stringify(c)).toString('base64url');

function decode(token: string | undefined): Cursor {
  if (!token) return { s: 0 };
  if (!token.startsWith(PREFIX)) throw new ApiError(400, 'InvalidParameterException', 'The specified nextToken is invalid.');
  try {
    const c = JSON.parse(Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8')) as Cursor;
    if (typeof c.s !== 'number' || (c.t !== undefined && typeof c.t !== 'string')) throw new Error('shape');
    return c;
  } catch {
    throw new ApiError(400, 'InvalidParameterException', 'The specified nextToken is invalid.');
  }
}

export function filterLogEventsExtension(logs: { target: Upstream }): ServiceExtension {
  return {
    service: 'logs',

    async serve({ cred, call, requestId }) {
      if (call.operation !== 'FilterLogEvents') return undefined;
      const p = call.params as Record<string, unknown> & { filterPattern?: string; limit?: number; nextToken?: string };
      if (p.filterPattern === undefined || String(p.filterPattern).trim() === '') return undefined; // moto pages unfiltered events itself
      const compiled = compile(String(p.filterPattern), { operation: 'FilterLogEvents' });
      const limit = Math.max(1, Math.min(10_000, Number(p.limit ?? 10_000)));
      const { filterPattern: _p, limit: _l, nextToken, ...rest } = p;
      let cursor = decode(nextToken);
      const events: Event[] = [];
      let searched: unknown[] | undefined;
      for (let pages = 0; pages < MAX_PAGES; pages++) {
        const page = await logs.target.json<Page>(cred.account, 'logs', 'FilterLogEvents', { ...rest, limit: 10_000, ...(cursor.t ? { nextToken: cursor.t } : {}) }, call.region);
        searched ??= page.searchedLogStreams;
        const matched = (page.events ?? []).filter((e) => compiled.test(e.message ?? ''));
        const take = matched.slice(cursor.s, cursor.s + (limit - events.length));
        events.push(...take);
        if (cursor.s + take.length < matched.length) {
          // The caller's limit was reached inside this page: resume in it.
          return jsonResult({ events, searchedLogStreams: searched ?? [], nextToken: encode({ ...(cursor.t ? { t: cursor.t } : {}), s: cursor.s + take.length }) }, requestId);
        }
        if (!page.nextToken || page.nextToken === cursor.t) return jsonResult({ events, searchedLogStreams: searched ?? [] }, requestId);
        cursor = { t: page.nextToken, s: 0 };
        if (events.length >= limit) break;
      }
      return jsonResult({ events, searchedLogStreams: searched ?? [], nextToken: encode(cursor) }, requestId);
    },
  };
}
