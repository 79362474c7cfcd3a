// Runs a student's solution module in its own process (forked by student-runner.ts): TypeScript via
// tsx, bare imports the workspace cannot resolve fall back to seclab's own dependencies, and each
// requested export's result or error is sent back over the link with seclab (parent-link.mjs).
import { registerFallbackResolve } from '../runtime/fallback-resolve.mjs';
import { startGatewayBridge } from '../runtime/gateway-bridge.mjs';
import { onMessage, send } from '../runtime/parent-link.mjs';
import { pathToFileURL } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
registerFallbackResolve();

function describe(err) {
  if (err && typeof err === 'object') {
    return { name: err.name, message: String(err.message ?? err), stack: String(err.stack ?? ''), code: err.code };
  }
  return { name: 'Error', message: String(err), stack: '' };
}

onMessage(async (msg) => {
  const { file, exports: names, input } = msg;
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    send({ type: 'load-error', error: describe(e) }, () => process.exit(0));
    return;
  }
  for (const name of names) {
    const fn = mod[name];
    const started = Date.now();
    if (typeof fn !== 'function') {
      send({ type: 'result', export: name, ok: false, durationMs: 0, error: { name: 'MissingExport', message: `${file} does not export a function named ${name}`, stack: '' } });
      continue;
    }
    send({ type: 'start', export: name });
    try {
      const value = await fn(input);
      send({ type: 'result', export: name, ok: true, durationMs: Date.now() - started, value: value === undefined ? null : JSON.parse(JSON.stringify(value)) });
    } catch (e) {
      send({ type: 'result', export: name, ok: false, durationMs: Date.now() - started, error: describe(e) });
    }
  }
  send({ type: 'done' }, () => process.exit(0));
});
await startGatewayBridge();
send({ type: 'ready' });
