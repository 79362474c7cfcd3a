// The Node.js Lambda runtime of the lab cloud, run in a child process per invocation: loads the
// handler from the function's unpacked code, calls it with the event and a context, and reports the
// result over the link with seclab (parent-link.mjs). The AWS SDK v3 resolves from seclab's own dependencies, as the real runtime ships it.
import { registerFallbackResolve } from '../../../runtime/fallback-resolve.mjs';
import { startGatewayBridge } from '../../../runtime/gateway-bridge.mjs';
import { onMessage, send } from '../../../runtime/parent-link.mjs';
import { pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';

registerFallbackResolve();
await startGatewayBridge();

function describe(err) {
  if (err instanceof Error) return { errorType: err.name || 'Error', errorMessage: err.message, trace: String(err.stack ?? '').split('\n') };
  return { errorType: 'Error', errorMessage: String(err), trace: [] };
}

// Init phase (as Lambda's): load the handler module before reporting ready, so its imports do not
// count against the invocation's timeout. Then one invocation per process.
const codeDir = process.env.SECLAB_LAMBDA_CODE_DIR;
const handler = process.env._HANDLER ?? 'index.handler';
const dot = handler.lastIndexOf('.');
const modulePath = handler.slice(0, dot);
const exportName = handler.slice(dot + 1);
let fn;
let initError;
const file = ['.mjs', '.js', '.cjs'].map((ext) => path.join(codeDir, modulePath + ext)).find((f) => existsSync(f));
if (!file) {
  initError = { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: Cannot find module '${modulePath}'`, trace: [] };
} else {
  try {
    const mod = await import(pathToFileURL(file).href);
    fn = mod[exportName] ?? mod.default?.[exportName];
    if (typeof fn !== 'function') initError = { errorType: 'Runtime.HandlerNotFound', errorMessage: `${modulePath}.${exportName} is undefined or not exported`, trace: [] };
  } catch (e) {
    initError = { ...describe(e), errorType: 'Runtime.ImportModuleError' };
  }
}

onMessage(async ({ event, context }) => {
  if (initError) {
    send({ ok: false, error: initError }, () => process.exit(0));
    return;
  }
  const ctx = { ...context, getRemainingTimeInMillis: () => Math.max(0, context.deadline - Date.now()), callbackWaitsForEmptyEventLoop: true };
  try {
    // Handlers may be async or take a callback.
    const value = await new Promise((resolve, reject) => {
      const maybe = fn(event, ctx, (err, res) => (err ? reject(err) : resolve(res)));
      if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
    });
    send({ ok: true, value: value === undefined ? null : value }, () => process.exit(0));
  } catch (e) {
    send({ ok: false, error: describe(e) }, () => process.exit(0));
  }
});
send({ ready: true });
