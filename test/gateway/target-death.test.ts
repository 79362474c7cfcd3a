// An emulator that dies mid-run: calls fail at once with a message that says what happened, not a hang.
import { describe, expect, it } from 'vitest';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { startLabCloud } from '../../src/cloud/labcloud.ts';

describe('lab cloud', () => {
  it('reports a dead emulator clearly on every later call', async () => {
    const cloud = await startLabCloud();
    try {
      const root = cloud.createAccount();
      const iam = cloud.client(IAMClient, { credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey } });
      await iam.send(new ListUsersCommand({}));
      const pid = (cloud.target as { pid?: number }).pid;
      expect(pid).toBeTypeOf('number');
      process.kill(pid!, 'SIGKILL');
      // Until the lab cloud has noticed (at once on an idle machine; later on a loaded one).
      for (let i = 0; i < 600 && !cloud.gateway.upstream.deathMessage; i++) await new Promise((r) => setTimeout(r, 50));
      const err = await iam.send(new ListUsersCommand({})).then(() => undefined, (e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
      expect(err?.$metadata?.httpStatusCode).toBe(503);
      expect(err?.message).toMatch(/moto|lab cloud/i);
      const health = await (await fetch(`${cloud.url}/_seclab/health`)).json() as { ok: boolean; error?: string };
      expect(health.ok).toBe(false);
      expect(health.error).toBeTruthy();
    } finally {
      await cloud.stop();
    }
  });
});
