// Inside a sandbox there is no network but loopback: this bridge listens on 127.0.0.1:<port>, where
// AWS_ENDPOINT_URL points, and carries each connection to the lab cloud's gateway over the Unix
// socket bound into the sandbox. Outside a sandbox (no SECLAB_GATEWAY_SOCKET) it does nothing.
import net from 'node:net';

export async function startGatewayBridge() {
  const socket = process.env.SECLAB_GATEWAY_SOCKET;
  const port = Number(process.env.SECLAB_GATEWAY_PORT);
  if (!socket || !port) return;
  const server = net.createServer((client) => {
    const upstream = net.connect(socket);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  // The bridge alone must not keep the process alive.
  server.unref();
}
