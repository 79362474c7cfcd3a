// S3 Control (account-level S3: Block Public Access for the account, access points, Multi-Region
// Access Points, Storage Lens...). Clients sign it as `s3` and send it to `<account>.s3-control.
// <region>.amazonaws.com` (with an endpoint URL: `<account>.<endpoint host>`), under /v20180820/, the
// account in `x-amz-account-id`. moto routes an s3-signed request whose path starts with
// "/v20180820/" to its s3control backend (moto_server/werkzeug_app.py), whatever the host, so the
// gateway identifies exactly those paths as S3 Control (a bucket named v20180820 is not reachable
// path-style, as in moto). Operation and parameters come from botocore's model (s3control-routes.ts).
import { XMLParser } from 'fast-xml-parser';
import { matchRoutes, type RestMatch } from './rest-json.ts';
import { S3CONTROL_ROUTES } from './s3control-routes.ts';
import type { RawRequest } from './types.ts';

/** The paths moto serves as S3 Control (case-sensitive, with the slash: `/v20180820` alone is a bucket). */
export const S3CONTROL_PATH = /^\/v20180820\//;

export function isS3ControlPath(path: string): boolean {
  return S3CONTROL_PATH.test(path);
}

const xml = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true, htmlEntities: true });

export const MALFORMED_XML = 'The XML you provided was not well-formed or did not validate against our published schema';

/** An XML body's root element's content; `false` when the body is not XML the target reads alike. */
function xmlBody(body: Buffer): Record<string, unknown> | false {
  const text = body.toString('utf8');
  if (!text.trimStart().startsWith('<') || /<!DOCTYPE|<!ENTITY/i.test(text) || !Buffer.from(text, 'utf8').equals(body)) return false;
  try {
    const doc = xml.parse(text, true) as Record<string, unknown>;
    const roots = Object.entries(doc).filter(([k]) => k !== '?xml');
    if (roots.length !== 1) return false;
    const v = roots[0]![1];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return false;
  }
}

/** Operation and parameters of an S3 Control request; `malformed` when its XML body cannot be read. */
export function s3controlCall(req: RawRequest): (RestMatch & { malformed?: { code: string; message: string } }) | undefined {
  let bad = false;
  const m = matchRoutes('s3control', S3CONTROL_ROUTES, req.method, req.path, req.query, req.headers, req.body, (body) => {
    const v = xmlBody(body);
    if (v === false) {
      bad = true;
      return undefined;
    }
    return v;
  });
  if (!m) return undefined;
  if (bad) return { ...m, malformed: { code: 'MalformedXML', message: MALFORMED_XML } };
  if (m.conflict) return { ...m, malformed: { code: 'InvalidRequest', message: `${m.conflict}; give it once.` } };
  return m;
}
