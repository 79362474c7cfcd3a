// The child side of the message link with seclab (see linkMessages in src/cloud/sandbox/launch.ts):
// newline-delimited JSON over file descriptor 3, instead of Node's IPC channel, so that seclab reads
// every message with a size limit (a process that writes an endless message is stopped instead of
// filling the grader's memory).
import net from 'node:net';

const link = new net.Socket({ fd: 3, readable: true, writable: true });

export function send(message, done) {
  link.write(`${JSON.stringify(message)}\n`, done);
}

export function onMessage(handler) {
  let pending = '';
  link.setEncoding('utf8');
  link.on('data', (chunk) => {
    pending += chunk;
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      if (line) handler(JSON.parse(line));
    }
  });
}
