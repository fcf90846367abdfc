import net from 'node:net';

/** Fails with a message naming the setting to change when the port is taken. */
export async function assertPortFree(host: string, port: number, what: string, setting: string): Promise<void> {
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  if (!error) return;
  if (error.code === 'EADDRINUSE') {
    throw new Error(
      `port ${port} on ${host} is already in use, and ${what} needs it. ` +
        `Is another \`npm start\` still running? Stop it, or set ${setting} to a free port.`,
    );
  }
  throw new Error(`cannot listen on ${host}:${port} for ${what} (${setting}): ${error.message}`);
}

export async function isPortOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
