// `npm run bench`: the lab cloud's start-up, the gateway's added latency per call against moto
// direct in the same run, and the time to grade lab iam (one workspace, then a class).
// Usage: npm run bench [-- --calls 300 --submissions 20 --concurrency 2]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { IAMClient, CreateUserCommand, CreateAccessKeyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startLabCloud, type LabCloud } from '../src/cloud/labcloud.ts';
import { gradeLab } from '../src/engine/grader.ts';
import { findLab, loadLabs, SOLUTIONS_DIR } from '../src/engine/labs.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '300' },
    submissions: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '2' },
    starts: { type: 'string', default: '3' },
  },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`);
const line = (what: string, value: string, goal: string, ok: boolean) =>
  console.log(`${ok ? '✔' : '✘'} ${what.padEnd(46)} ${value.padStart(12)}   goal ${goal}`);

async function cloudStart(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < Number(args.starts); i++) {
    const t0 = performance.now();
    const c = await startLabCloud();
    times.push(performance.now() - t0);
    await c.stop();
  }
  return times;
}

/** Same calls, same user, through the gateway and straight to moto, interleaved, from a worker thread. */
async function gatewayOverhead(cloud: LabCloud, calls: number) {
  const root = cloud.createAccount();
  const rootCreds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const iam = cloud.client(IAMClient, { credentials: rootCreds });
  await iam.send(new CreateUserCommand({ UserName: 'bench' }));
  await iam.send(new PutUserPolicyCommand({
    UserName: 'bench', PolicyName: 'p',
    PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Action: ['iam:List*', 's3:GetObject'], Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '127.0.0.0/8'] } } },
    ] }),
  }));
  const k = (await iam.send(new CreateAccessKeyCommand({ UserName: 'bench' }))).AccessKey!;
  const user = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  await cloud.client(S3Client, { credentials: rootCreds }).send(new CreateBucketCommand({ Bucket: 'bench' }));
  await cloud.client(S3Client, { credentials: rootCreds }).send(new PutObjectCommand({ Bucket: 'bench', Key: 'k', Body: 'x'.repeat(1024) }));

  const before = { ...cloud.gateway.stats };
  const worker = new Worker(new URL('./load-client.mjs', import.meta.url), {
    workerData: { gatewayUrl: cloud.url, motoUrl: cloud.target.url, motoHeaders: cloud.target.upstreamHeaders, accountId: root.accountId, user, calls },
  });
  const results = await new Promise<Record<string, { gateway: number; moto: number }>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  const st = cloud.gateway.stats;
  const n = st.requests - before.requests;
  line('gateway\'s own processing per call (mean)', fmt((st.ownMs - before.ownMs) / n), '', true);
  line('target\'s time per call seen by the gateway', fmt((st.upstreamMs - before.upstreamMs) / n), '', true);
  return results;
}

async function main() {
  console.log(`seclab bench — node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`);
  const starts = await cloudStart();
  line('lab cloud ready (moto + gateway), median', fmt(median(starts)), '≤ 1.5 s', median(starts) <= 1500);

  const cloud = await startLabCloud();
  try {
    const overhead = await gatewayOverhead(cloud, Number(args.calls));
    for (const [op, r] of Object.entries(overhead)) {
      const ratio = r.gateway / r.moto;
      line(`gateway vs moto direct, ${op} (median)`, `${fmt(r.gateway)} / ${fmt(r.moto)}`, '', true);
      line(`  → added latency ratio`, `${((ratio - 1) * 100).toFixed(1)} %`, '≤ 10 %', ratio <= 1.1);
    }

    // Every lab, graded with its reference solution (which must score full marks).
    for (const each of await loadLabs()) {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const g = await gradeLab(cloud, each, { workspace: SOLUTIONS_DIR });
        times.push(performance.now() - t0);
        if (g.score !== g.maxScore) throw new Error(`the reference solution of ${each.id} scored ${g.score}/${g.maxScore}`);
      }
      line(`grade lab ${each.id}, one workspace (median of 3)`, fmt(median(times)), '≤ 5 s', median(times) <= 5000);
    }
    const lab = await findLab('iam');

    const n = Number(args.submissions);
    const conc = Number(args.concurrency);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: conc }, async () => {
      while (next < n) {
        next++;
        await gradeLab(cloud, lab, { workspace: SOLUTIONS_DIR });
      }
    }));
    const total = performance.now() - t0;
    line(`grade ${n} submissions, ${conc} at once`, fmt(total), '', true);
    line('  → projected for 100 submissions', fmt((total / n) * 100), '≤ 5 min', (total / n) * 100 <= 300_000);
  } finally {
    await cloud.stop();
  }
}

await main();
