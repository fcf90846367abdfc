import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer, jsonResponse } from './admin-server.js';

describe('AdminServer', () => {
  const servers: AdminServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async () => {
    const server = await AdminServer.listen('127.0.0.1', 0, 'TEST_ADMIN_PORT', {
      '/health/details': () => jsonResponse(503, { status: 'unavailable' }),
      '/broken': () => {
        throw new Error('secret detail');
      },
    });
    servers.push(server);
    return server;
  };

  it('answers its routes, 404 elsewhere, 405 to other methods, and hides a route\'s error', async () => {
    const { url } = await start();
    const details = await fetch(`${url}/health/details?verbose=1`);
    expect([details.status, details.headers.get('content-type'), await details.text()]).toEqual([503, 'application/json; charset=utf-8', '{"status":"unavailable"}']);
    const missing = await fetch(`${url}/metrics`);
    expect([missing.status, await missing.text()]).toEqual([404, 'not found']);
    const posted = await fetch(`${url}/health/details`, { method: 'POST' });
    expect([posted.status, posted.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const broken = await fetch(`${url}/broken`);
    expect([broken.status, await broken.text()]).toEqual([500, 'internal error']);
  });

  it('closes while a client holds a keep-alive connection open', async () => {
    const server = await start();
    const { port } = server.address;
    const agentResponse = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/health/details', headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });
    expect(agentResponse).toBe(503);
    // The connection is idle and kept alive (5 s): close must not wait for it.
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`http://127.0.0.1:${port}/health/details`)).rejects.toThrow();
  });

  it('names the setting when its port is taken', async () => {
    const { port } = (await start()).address;
    await expect(AdminServer.listen('127.0.0.1', port, 'TEST_ADMIN_PORT', {})).rejects.toThrow(
      `cannot open the admin port 127.0.0.1:${port} (TEST_ADMIN_PORT, ADMIN_HOST): listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
    );
  });
});
