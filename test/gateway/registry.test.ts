// The gateway is the request pipeline only: a service plugs in through the registry
// (src/cloud/gateway/service.ts) without anything under src/cloud/gateway/ naming it. Here a service
// that exists only in this test adds hooks to SQS calls, a resource policy, a control endpoint and
// time-driven work, and the pipeline runs them like the built-in ones.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLabCloud, type LabCloud } from '../../src/cloud/labcloud.ts';
import { services } from '../../src/cloud/services/index.ts';
import { ApiError } from '../../src/cloud/gateway/api-error.ts';
import type { AuthorizationPart, ServiceModule, ServiceRuntime } from '../../src/cloud/gateway/service.ts';

/** A service made in the test: counts SQS calls, refuses messages that say "forbidden", denies one queue to everybody. */
class ToyService implements ServiceRuntime {
  sent = 0;
  flushes = 0;
  dropped: string[] = [];
  readonly extensions = [{
    service: 'sqs',
    before: async ({ call }: { call: { operation: string; params: Record<string, unknown> } }) => {
      if (call.operation === 'SendMessage' && String(call.params['MessageBody'] ?? '').includes('forbidden')) {
        throw new ApiError(400, 'InvalidMessageContents', 'the toy service refuses this message');
      }
    },
    after: async ({ call }: { call: { operation: string } }) => {
      if (call.operation === 'SendMessage') this.sent++;
    },
  }];
  readonly authorization: AuthorizationPart = {
    resourcePolicy: async ({ resource }) => (/^arn:aws:sqs:[^:]+:\d{12}:locked$/.test(resource)
      ? { source: 'toy queue policy', document: { Statement: [{ Effect: 'Deny' as const, Principal: '*', Action: 'sqs:SendMessage', Resource: '*' }] }, account: resource.split(':')[4]! }
      : undefined),
  };
  readonly control = {
    '/_seclab/toy': async () => ({ status: 200, value: { sent: this.sent } }),
  };
  async evaluate(): Promise<void> {
    this.flushes++;
  }
  dropAccount(account: string): void {
    this.dropped.push(account);
  }
}

const toy = new ToyService();
const toyModule = { name: 'toy', create: () => toy } as unknown as ServiceModule;

let cloud: LabCloud;
beforeAll(async () => {
  cloud = await startLabCloud({ services: [...services, toyModule] });
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
});

describe('service registry', () => {
  it('a service from outside src/cloud/services hooks calls, authorization, control endpoints and flushes', async () => {
    const root = cloud.createAccount();
    const sqs = cloud.client(SQSClient, { credentials: root });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    expect(toy.sent).toBe(1);
    await expect(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'forbidden words' }))).rejects.toMatchObject({ name: 'InvalidMessageContents' });
    expect(toy.sent).toBe(1);
    // Its resource policy denies even the account's root user (an explicit deny in a resource policy).
    const locked = await sqs.send(new CreateQueueCommand({ QueueName: 'locked' }));
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: locked.QueueUrl, MessageBody: 'x' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    // CloudTrail (another service) recorded the refusal the toy service caused.
    const refused = cloud.gateway.service('cloudtrail').trail.all(root.accountId).filter((r) => r.eventName === 'SendMessage' && r.errorCode);
    expect(refused.map((r) => r.errorCode)).toEqual(['InvalidMessageContents', expect.stringMatching(/AccessDenied/)]);
    // Its control endpoint, behind the control token like every other.
    const url = `${cloud.url}/_seclab/toy`;
    expect((await fetch(url)).status).toBe(403);
    expect(await (await fetch(url, { headers: { 'x-seclab-control-token': cloud.gateway.controlToken } })).json()).toEqual({ sent: 1 });
    // Time-driven work and account lifecycle.
    const before = toy.flushes;
    await cloud.gateway.flush();
    expect(toy.flushes).toBe(before + 1);
    cloud.gateway.dropAccount(root.accountId);
    expect(toy.dropped).toContain(root.accountId);
    expect(cloud.gateway.service('toy' as never)).toBe(toy);
  });

  it('refuses two services of one name and names a missing one', async () => {
    await expect(startLabCloud({ services: [...services, services[0]!] })).rejects.toThrow(/two services named iam/);
    expect(() => cloud.gateway.service('nosuch' as never)).toThrow(/no service nosuch/);
  });

  it('nothing under src/cloud/gateway imports a service folder', () => {
    const dir = path.resolve(__dirname, '../../src/cloud/gateway');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = path.join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(dir);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((f) => /from '[^']*services\//.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
