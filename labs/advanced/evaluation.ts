// The held-back evaluation of the student's model: two days after the baseline, generated from a seed
// only the grader has (session.hidden.advanced.evaluationSeed), with the company's normal traffic
// (Benign) and the attacks of the lab at seeded times (Malicious): slow exfiltration from app-2,
// beaconing from app-1, a DDoS burst on web-1 and a port scan of web-1 and the bastion, each from a
// fresh address. The model file is loaded as data (validated; never run) and scored per host window as
// `seclab anomaly eval --model` does: ROC-AUC and the alert rate on normal windows at its threshold.
import { type FlowLogConfig, type FlowLogRecord, type Topology } from '../../src/cloud/services/ec2/dataplane/index.ts';
import { evaluateWindows, extractFeatures, type AnomalyModel, type FlowRecord, type ModelMetrics } from '../../src/controls/anomaly/index.ts';
import { validateModel } from '../../src/controls/anomaly/stream.ts';
import { instance, randomRogueIp, type NetworkLabEnv } from '../network/company.ts';
import { Random } from '../../src/engine/random.ts';
import { DAY_MS, asFlowRecord, companyFlows, recordsFor } from './baseline.ts';
import { EVALUATION_DAYS } from './company.ts';
import { slowExfiltrationFlows } from '../../scenarios/advanced-slow-exfiltration.ts';
import { beaconFlows } from '../../scenarios/advanced-c2-beaconing.ts';
import { floodFlows, floodSources } from '../../scenarios/advanced-ddos-burst.ts';
import { rogueScanFlows, scanOrder } from '../../scenarios/advanced-port-scan.ts';

export interface EvaluationPeriod {
  /** The production VPC: windows of its hosts are evaluated. */
  cidr: string;
  from: number;
  to: number;
  records: FlowRecord[];
  attacks: { what: string; at: number; minutes: number }[];
}

/** The two held-back days after `baselineEnd` (00:00 UTC), with labelled attacks. */
export function evaluationPeriod(env: NetworkLabEnv, t: Topology, flowLog: FlowLogConfig, o: { scannerIp: string; seed: string; baselineEnd: number }): EvaluationPeriod {
  const rng = new Random(`${o.seed}|attacks`);
  const from = o.baselineEnd;
  const to = from + EVALUATION_DAYS * DAY_MS;
  const normal: FlowLogRecord[] = [];
  for (let d = 0; d < EVALUATION_DAYS; d++) {
    const f = from + d * DAY_MS;
    normal.push(...recordsFor(t, flowLog, companyFlows(env, t, o.scannerIp, f, f + DAY_MS, `${o.seed}|day|${d}`)));
  }
  const at = (day: number) => from + day * DAY_MS + rng.int(1, 22) * 3600_000 + rng.int(0, 59) * 60_000;
  const used: string[] = [o.scannerIp];
  const rogue = () => {
    const ip = randomRogueIp(used, rng);
    used.push(ip);
    return ip;
  };
  const app1 = instance(env, 'app-1');
  const app2 = instance(env, 'app-2');
  const web = instance(env, 'web-1');
  const bastion = instance(env, 'bastion');
  const attacks: EvaluationPeriod['attacks'] = [];
  const flows = [];
  {
    const t0 = at(0);
    flows.push(...slowExfiltrationFlows(app2.privateIp, rogue(), t0, t0 + 60 * 60_000, `${o.seed}|exfil`));
    attacks.push({ what: 'slow exfiltration from app-2', at: t0, minutes: 60 });
  }
  {
    const t0 = at(0);
    flows.push(...beaconFlows(app1.privateIp, rogue(), t0, t0 + 60 * 60_000, `${o.seed}|beacon`));
    attacks.push({ what: 'beaconing from app-1', at: t0, minutes: 60 });
  }
  {
    const t0 = at(1);
    flows.push(...floodFlows(web.publicIp ?? web.privateIp, floodSources(`${o.seed}|flood`), t0, t0 + 15 * 60_000, `${o.seed}|flood`));
    attacks.push({ what: 'DDoS burst on web-1', at: t0, minutes: 15 });
  }
  {
    const t0 = at(1);
    const ip = rogue();
    const targets = [web, bastion].map((h) => ({ address: h.publicIp ?? h.privateIp, open: [h.name === 'web-1' ? env.ports.web : env.ports.ssh] }));
    const ports = scanOrder(`${o.seed}|scan`);
    for (let i = 0; i < 6; i++) flows.push(...rogueScanFlows(ip, targets, ports, i, t0 + i * 300_000, t0 + (i + 1) * 300_000));
    attacks.push({ what: 'port scan of web-1 and the bastion', at: t0, minutes: 30 });
  }
  const malicious = recordsFor(t, flowLog, flows);
  const records = [...normal.map((r) => asFlowRecord(r, 'Benign')), ...malicious.map((r) => asFlowRecord(r, 'Malicious'))].sort((a, b) => a.start - b.start);
  return { cidr: env.vpcs.sensitive.cidr, from, to, records, attacks: attacks.sort((a, b) => a.at - b.at) };
}

function inCompany(host: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const n = (ip: string) => ip.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) return false;
  const mask = 2 ** (32 - Number(bits));
  return Math.floor(n(host) / mask) === Math.floor(n(net!) / mask);
}

export interface ModelGrade {
  ok: boolean;
  message: string;
  metrics?: ModelMetrics;
}

/** Loads the student's model file (bytes) as data and evaluates it on the period. Never throws. */
export function gradeModel(bytes: Uint8Array, period: EvaluationPeriod, limits: { minRocAuc: number; maxAlertRate: number }): ModelGrade {
  let model: AnomalyModel;
  try {
    model = validateModel(bytes);
  } catch (e) {
    const hint = (e as { hint?: string }).hint;
    return { ok: false, message: `the model file could not be loaded: ${(e as Error).message}${hint ? ` (${hint})` : ''}` };
  }
  let m: ModelMetrics;
  try {
    const { windows } = extractFeatures(period.records, { windowSeconds: model.windowSeconds, ...(model.history ? { history: model.history } : {}) });
    // The company's own hosts (the flow log's interfaces), as the detector scores them: an outside
    // address is a host of the features, but one flooding source or one customer is not what is judged.
    m = evaluateWindows(model, windows.filter((w) => inCompany(w.host, period.cidr)), ['robust'])[0]!;
  } catch (e) {
    return { ok: false, message: `the model file could not be evaluated: ${(e as Error).message} — retrain it with \`seclab anomaly train\`` };
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const measured = `ROC-AUC ${Number.isFinite(m.rocAuc) ? m.rocAuc.toFixed(3) : 'n/a'} (needs ≥ ${limits.minRocAuc}), alerts on ${pct(m.fprMeasured)} of normal windows (at most ${pct(limits.maxAlertRate)}), recall ${pct(m.recall)} at its threshold ${m.threshold.toFixed(3)}`;
  // The ranking (ROC-AUC) does not depend on the threshold: a threshold above every window would meet
  // the false-positive budget by alerting on nothing at all, attacks included.
  const blind = m.tp === 0;
  const ok = m.rocAuc >= limits.minRocAuc && m.fprMeasured <= limits.maxAlertRate && !blind;
  return {
    ok, metrics: m,
    message: ok
      ? `on ${EVALUATION_DAYS} held-back days with ${m.tp + m.fn} attack windows: ${measured}`
      : `on ${EVALUATION_DAYS} held-back days: ${measured} — ${blind && m.rocAuc >= limits.minRocAuc && m.fprMeasured <= limits.maxAlertRate ? 'its threshold is above every attack window, so it would alert on nothing: set it for 1 % false positives on the baseline (--fpr 0.01), not higher' : m.rocAuc < limits.minRocAuc ? 'train on every baseline day (the whole period, all windows normal) with this seclab\'s features' : 'raise the threshold: set it for 1 % false positives on the baseline\'s latest days (--fpr 0.01)'}`,
  };
}

