// Plain JS (workers do not get tsx's loader on Node 20). Runs in a worker thread so that the client's own CPU does not share the gateway's event loop, as a
// student's code or the AWS CLI would not: times the same calls through the gateway and to moto direct.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';

/** @type {{ gatewayUrl: string, motoUrl: string, motoHeaders?: Record<string, string>, accountId: string, user: { accessKeyId: string, secretAccessKey: string }, calls: number }} */
const input = workerData;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function clients(endpoint, direct) {
  const cfg = { endpoint, region: 'us-east-1', credentials: input.user, forcePathStyle: true, maxAttempts: 1 };
  const iam = new IAMClient(cfg);
  const s3 = new S3Client(cfg);
  if (direct) {
    for (const c of [iam, s3]) {
      c.middlewareStack.add((next) => async (a) => {
        a.request.headers['x-moto-account-id'] = input.accountId;
        Object.assign(a.request.headers, input.motoHeaders ?? {});
        return next(a);
      }, { step: 'build' });
    }
  }
  return { iam, s3 };
}

const viaGateway = clients(input.gatewayUrl, false);
const viaMoto = clients(input.motoUrl, true);
const ops = {
  'iam:ListUsers': (c) => c.iam.send(new ListUsersCommand({})),
  's3:GetObject': async (c) => (await c.s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'k' }))).Body.transformToString(),
};
const results = {};
for (const [name, op] of Object.entries(ops)) {
  for (let i = 0; i < 30; i++) { await op(viaGateway); await op(viaMoto); }
  const g = [];
  const m = [];
  for (let i = 0; i < input.calls; i++) {
    let t = performance.now(); await op(viaGateway); g.push(performance.now() - t);
    t = performance.now(); await op(viaMoto); m.push(performance.now() - t);
  }
  results[name] = { gateway: median(g), moto: median(m) };
}
parentPort.postMessage(results);
