// Micro-benchmark of the filter-pattern engine: `npx tsx test/logs/bench.ts`.
// Reports matches per second for a term pattern, the VPC flow-log (space-delimited) pattern of the
// AWS VPC documentation, a JSON (CloudTrail) pattern, the full metric path (match + metricValue), and
// %regex% patterns (matched in linear time on RE2; bench/patterns.ts compares them with RegExp).
import { performance } from 'node:perf_hooks';
import { compile, metricValue } from '../src/cloud/services/logs/filter-pattern/index.ts';

function flowRecords(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const ssh = i % 10 === 0;
    const action = i % 7 === 0 ? 'REJECT' : 'ACCEPT';
    out.push(
      `2 123456789010 eni-1235b8ca123456789 203.0.113.${i % 250} 172.31.16.${(i * 7) % 250} ${40000 + (i % 20000)} ${ssh ? 22 : 443} 6 ${1 + (i % 40)} ${100 + i * 13} 1418530010 1418530070 ${action} OK`,
    );
  }
  return out;
}

function rate(label: string, messages: readonly string[], fn: (m: string) => unknown, rounds = 5): number {
  let hits = 0;
  for (const m of messages) if (fn(m)) hits++; // warm up
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const m of messages) if (fn(m)) hits++;
    const dt = performance.now() - t0;
    best = Math.max(best, messages.length / (dt / 1000));
  }
  const share = ((hits / (rounds + 1) / messages.length) * 100).toFixed(1);
  console.log(`${label.padEnd(58)} ${Math.round(best).toLocaleString('en-US').padStart(12)} /s  (${share}% matched)`);
  return best;
}

export function runBench(): Record<string, number> {
  const flows = flowRecords(200_000);
  const texts = flows.map((f, i) => (i % 3 === 0 ? `[ERROR 400] BAD REQUEST ${f}` : `[INFO 200] OK ${f}`));
  const trail = flows.slice(0, 50_000).map((_, i) =>
    JSON.stringify({
      eventVersion: '1.08',
      userIdentity: { type: i % 50 === 0 ? 'Root' : 'IAMUser', userName: `user${i % 30}` },
      eventSource: 'signin.amazonaws.com',
      eventName: i % 5 === 0 ? 'ConsoleLogin' : 'GetObject',
      additionalEventData: { MFAUsed: i % 2 ? 'Yes' : 'No' },
      sourceIPAddress: `198.51.100.${i % 200}`,
      errorCode: i % 9 === 0 ? 'AccessDenied' : undefined,
    }),
  );

  const term = compile('ERROR');
  const terms2 = compile('ERROR -ARGUMENTS');
  const vpc = compile(
    '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]',
  );
  const vpcBytes = compile('[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes > 1000, windowstart, windowend, action, flowlogstatus]');
  const cis = compile('{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }');
  const unauth = compile('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }');
  // %regex% runs on RE2 (linear time, controls/patterns/regex.ts): the cost of that guarantee on ordinary patterns.
  const regexTerm = compile('%ERROR 40[0-9]%');
  const regexAlt = compile('%[Ee]rror|[Ff]ail%');
  const regexJson = compile('{ $.sourceIPAddress = %^198\\.51\\.100\\.1\\d*$% }');

  return {
    term: rate('term "ERROR" test()', texts, (m) => term.test(m)),
    terms: rate('terms "ERROR -ARGUMENTS" test()', texts, (m) => terms2.test(m)),
    vpcTest: rate('flow log [.., destport="22", .., action="REJECT", ..] test()', flows, (m) => vpc.test(m)),
    vpcMetric: rate('flow log bytes > 1000: match() + metricValue($bytes)', flows, (m) =>
      metricValue(vpcBytes, vpcBytes.match(m), { metricValue: '$bytes', defaultValue: 0 }),
    ),
    jsonCis: rate('CloudTrail JSON (CIS console login without MFA) test()', trail, (m) => cis.test(m)),
    jsonTwo: rate('CloudTrail JSON, 2 filters on each event (parse shared)', trail, (m) => cis.test(m) && unauth.test(m)),
    regexTerm: rate('regex term %ERROR 40[0-9]% test()', texts, (m) => regexTerm.test(m)),
    regexAlt: rate('regex term %[Ee]rror|[Ff]ail% test()', texts, (m) => regexAlt.test(m)),
    regexJson: rate('CloudTrail JSON { $.sourceIPAddress = %^198\\.51\\.100\\.1\\d*$% }', trail, (m) => regexJson.test(m)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) runBench();
