// Goes around the gateway: finds moto's port, reads every account's secrets from /moto-api/data.json,
// resets it; and tries the lab cloud's control endpoints (new accounts, moving the clock).
import { readFileSync } from 'node:fs';
import { attempt, emptyAudit } from './common.ts';

export const audit = emptyAudit;

function listeningPorts(): number[] {
  const ports: number[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[3] === '0A') ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
      }
    } catch {
      // no such file
    }
  }
  return ports;
}

export async function apply() {
  for (const port of listeningPorts()) {
    await attempt(`moto data.json on ${port}`, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/moto-api/data.json`);
      console.log(`hostile: port ${port} data.json answered ${r.status}`);
    });
    await attempt(`moto reset on ${port}`, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/moto-api/reset`, { method: 'POST' });
      console.log(`hostile: port ${port} reset answered ${r.status}`);
    });
  }
  const gw = process.env['AWS_ENDPOINT_URL'];
  for (const [method, p] of [['POST', '/moto-api/reset'], ['GET', '/moto-api/data.json'], ['POST', '/_seclab/accounts'], ['POST', '/_seclab/clock'], ['GET', '/_seclab/outbox']] as const) {
    await attempt(`${method} ${p} through the gateway`, async () => {
      const r = await fetch(`${gw}${p}`, { method, body: method === 'POST' ? '{"advanceSeconds": 86400}' : undefined });
      console.log(`hostile: gateway ${p} answered ${r.status}`);
    });
  }
}
