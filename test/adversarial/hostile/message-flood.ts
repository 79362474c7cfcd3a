// Writes one endless message to seclab (the link on file descriptor 3), and an endless request body
// to the gateway, to fill the grader's memory.
import { writeSync } from 'node:fs';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

export async function apply() {
  await attempt('a 400 MB request body', async () => {
    const mb = new Uint8Array(1024 * 1024);
    const body = new ReadableStream({
      pull(c) {
        c.enqueue(mb);
      },
    });
    const r = await fetch(`${process.env['AWS_ENDPOINT_URL']}/some-bucket/key`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    console.log(`hostile: body flood answered ${r.status}`);
  });
  const chunk = `{"type":"result","export":"apply","ok":true,"value":"${'x'.repeat(1 << 20)}`;
  for (let i = 0; i < 64; i++) writeSync(3, chunk);
}
