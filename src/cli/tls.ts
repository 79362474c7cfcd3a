// `seclab tls scan <host:port>`: the TLS prober of src/controls/tls from the terminal (docs/tls.md).
import { existsSync } from 'node:fs';
import { EnvironmentError, ExitCode, UsageError } from './errors.ts';
import type { Ui } from './ui.ts';

export interface TlsScanOptions {
  sni?: string;
  ca?: string;
  httpPort?: string;
  format?: string;
  timeout?: string;
  json?: boolean;
}

export async function cmdTlsScan(ui: Ui, target: string, opts: TlsScanOptions): Promise<number> {
  const format = opts.json ? 'json' : (opts.format ?? 'text');
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format must be json or text, not "${opts.format}"`);
  if (opts.ca && !existsSync(opts.ca)) throw new UsageError(`--ca: no such file: ${opts.ca}`, 'give a PEM file with the CA certificates to trust');
  let httpPort: number | null | undefined;
  if (opts.httpPort !== undefined) {
    if (opts.httpPort === 'none') httpPort = null;
    else {
      httpPort = Number(opts.httpPort);
      if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65535) throw new UsageError(`--http-port must be a port number or "none", not "${opts.httpPort}"`);
    }
  }
  let timeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    timeoutMs = Number(opts.timeout) * 1000;
    if (!(timeoutMs > 0)) throw new UsageError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
  }
  const { probe, parseTarget, TlsProbeError } = await import('../controls/tls/index.ts');
  const { renderText } = await import('../controls/tls/text.ts');
  let host: string;
  let port: number;
  try {
    ({ host, port } = parseTarget(target));
  } catch (e) {
    throw new UsageError((e as Error).message, 'give host:port, e.g. localhost:8443 or [::1]:443');
  }
  const spin = ui.spin(`probing ${host}:${port} (protocols, cipher suites, certificate, HTTP)`);
  try {
    const result = await probe(host, port, {
      ...(opts.sni ? { serverName: opts.sni } : {}),
      ...(opts.ca ? { caFile: opts.ca } : {}),
      ...(httpPort !== undefined ? { httpPort } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    spin.stop();
    if (format === 'json') ui.print(JSON.stringify(result, null, 2));
    else for (const l of renderText(result, ui.out)) ui.print(l);
    return ExitCode.OK;
  } catch (e) {
    spin.stop();
    if (e instanceof TlsProbeError) throw new EnvironmentError(e.message, e.code === 'TIMEOUT' ? 'is the server up and reachable? raise --timeout (seconds) for a slow server' : 'is the host:port right and does a TLS server listen there?');
    if (e instanceof Error && /does not speak TLS/.test(e.message)) throw new EnvironmentError(e.message, 'is this the HTTPS port? plain-HTTP ports go to --http-port');
    throw e;
  }
}
