// A minimal HTTP client for talking to targets' control endpoints and the Docker socket.
// node:http with no keep-alive agent, so nothing lingers after a target stops.

import http from 'node:http';
import https from 'node:https';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Unix socket to connect to instead of the URL's host and port. */
  socketPath?: string;
  /** TLS material for https (Docker over TCP with DOCKER_TLS_VERIFY). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Largest body kept, in bytes; the rest is read and dropped. */
  maxBody?: number;
}

export function httpRequest(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const mod = isHttps ? https : http;
  const maxBody = opts.maxBody ?? 1 << 20;
  return new Promise<HttpResult>((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = mod.request(
      {
        protocol: u.protocol,
        hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: u.port || undefined,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'GET',
        headers,
        agent: false,
        socketPath: opts.socketPath,
        ...(isHttps && opts.tls ? opts.tls : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < maxBody) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timeoutMs = opts.timeoutMs ?? 5000;
    const timer = setTimeout(() => {
      req.destroy(Object.assign(new Error(`no answer from ${url} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
