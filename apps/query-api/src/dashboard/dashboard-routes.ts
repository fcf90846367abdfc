import fastifyStatic from '@fastify/static';
import { DASHBOARD_PATH } from '@app/access';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's own files: plain ES modules and CSS, no build step. */
export const DASHBOARD_ROOT = fileURLToPath(new URL('../../dashboard/', import.meta.url));

const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

/** The installed uPlot's version: its files are served under it, so that browsers may cache them for good. */
export const UPLOT_VERSION: string = (JSON.parse(readFileSync(join(uplotDist, '..', 'package.json'), 'utf8')) as { version: string }).version;
export const UPLOT_PREFIX = `${DASHBOARD_PATH}/vendor/uplot-${UPLOT_VERSION}/`;
const UPLOT_FILES = new Set(['/uPlot.esm.js', '/uPlot.min.css']);

/**
 * Every asset is the app's own (no external request), no script or style may
 * be inline, and nothing may frame the page or post a form anywhere: the
 * merchant token lives in this page's sessionStorage.
 */
export const DASHBOARD_CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The page's own files change with the code and are revalidated (ETag); uPlot's are named by version. */
const REVALIDATE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', DASHBOARD_CSP);
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
}

/**
 * The merchants' dashboard at /dashboard: static files, served to anyone (the
 * page holds no data); its GraphQL requests carry the merchant's token as
 * every client's do. Registered in a context of its own, so its headers and
 * @fastify/static's reply decorators stay on these routes.
 */
export async function dashboardRoutes(fastify: FastifyInstance): Promise<void> {
  fastify.addHook('onSend', async (_request, reply, payload) => {
    securityHeaders(reply);
    return payload;
  });
  await fastify.register(fastifyStatic, {
    root: DASHBOARD_ROOT,
    prefix: `${DASHBOARD_PATH}/`,
    index: false,
    dotfiles: 'ignore',
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', REVALIDATE),
  });
  await fastify.register(fastifyStatic, {
    root: uplotDist,
    prefix: UPLOT_PREFIX,
    decorateReply: false,
    index: false,
    allowedPath: (path) => UPLOT_FILES.has(path),
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', IMMUTABLE),
  });
  // The sign-in link is /dashboard#token=…: the page answers with and without the slash (its assets use absolute paths).
  const page = async (_request: unknown, reply: FastifyReply) => reply.sendFile('index.html');
  fastify.get(DASHBOARD_PATH, page);
  fastify.get(`${DASHBOARD_PATH}/`, page);
}
