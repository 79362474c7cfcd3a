// One raw handshake over a TCP socket: send a ClientHello, read the server's flight, close. Each call
// is bounded by a timeout that fails with a message naming the host, the step and the time waited.
import net from 'node:net';
import { buildClientHello, buildSslv2ClientHello, FlightParser, parseSslv2Answer, type ClientHelloOptions, type ServerFlight } from './hello.ts';

export class TlsProbeError extends Error {
  constructor(message: string, readonly code: 'TIMEOUT' | 'CONNECT' | 'PROTOCOL') {
    super(message);
    this.name = 'TlsProbeError';
  }
}

export interface Endpoint {
  host: string;
  port: number;
  /** Milliseconds for connect and for the server's answer, each (default 5000). */
  timeoutMs?: number;
  /** Counts the raw handshakes made through this endpoint. */
  counter?: { handshakes: number };
}

export interface HandshakeResult extends ServerFlight {
  /** The server closed the connection (or reset it) without a complete answer. */
  closed: boolean;
}

/** Opens a TCP connection; rejects with a TlsProbeError (CONNECT or TIMEOUT). */
export function connectTcp(ep: Endpoint): Promise<net.Socket> {
  const timeoutMs = ep.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ep.host, port: ep.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TlsProbeError(`could not connect to ${ep.host}:${ep.port}: no answer within ${timeoutMs} ms`, 'TIMEOUT'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new TlsProbeError(`could not connect to ${ep.host}:${ep.port}: ${e.code ?? e.message}`, 'CONNECT'));
    });
  });
}

/** Sends one ClientHello and reads the answer until it is complete, the server closes, or the timeout. */
export async function rawHandshake(ep: Endpoint, hello: ClientHelloOptions): Promise<HandshakeResult> {
  const timeoutMs = ep.timeoutMs ?? 5000;
  const socket = await connectTcp(ep);
  if (ep.counter) ep.counter.handshakes++;
  const parser = new FlightParser();
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parser.flight, closed });
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new TlsProbeError(`${ep.host}:${ep.port} did not answer a ${hello.protocol} ClientHello within ${timeoutMs} ms`, 'TIMEOUT'));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      try {
        if (parser.push(d)) finish(false);
      } catch (e) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(new TlsProbeError(`${ep.host}:${ep.port} sent a malformed ${hello.protocol} answer: ${(e as Error).message}`, 'PROTOCOL'));
      }
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(buildClientHello(hello));
  });
}

export interface Sslv2Result {
  offered: boolean;
  ciphers: string[];
  refusal?: string;
}

/** An SSL 2.0 CLIENT-HELLO; offered when the server answers with a SERVER-HELLO. */
export async function sslv2Handshake(ep: Endpoint): Promise<Sslv2Result> {
  const timeoutMs = ep.timeoutMs ?? 5000;
  const socket = await connectTcp(ep);
  if (ep.counter) ep.counter.handshakes++;
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let settled = false;
    const done = (r: Sslv2Result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new TlsProbeError(`${ep.host}:${ep.port} did not answer an SSLv2 ClientHello within ${timeoutMs} ms`, 'TIMEOUT'));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const a = parseSslv2Answer(buf);
      if (a.complete) done(a.serverHello ? { offered: true, ciphers: a.ciphers } : { offered: false, ciphers: [], refusal: a.other === 'alert' ? 'TLS alert' : `answered ${a.other}` });
    });
    const closed = () => done({ offered: false, ciphers: [], refusal: 'connection closed' });
    socket.on('end', closed);
    socket.on('close', closed);
    socket.on('error', closed);
    socket.write(buildSslv2ClientHello());
  });
}
