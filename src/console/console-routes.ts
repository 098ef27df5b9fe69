import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build:console` writes the console (git-ignored; built by `npm install`). */
export const CONSOLE_DIST_DIR = path.resolve(import.meta.dirname, '..', '..', 'console', 'dist');

/**
 * The console is same-origin static files: scripts, styles and API calls only from this origin,
 * no inline code, no framing. The API key travels in an Authorization header from
 * sessionStorage, never in a URL, so nothing here needs it.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Vite names built assets by content hash, so a name never changes meaning: cache for a year. */
const HASHED_ASSET = /\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONSOLE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
}

export const CONSOLE_NOT_BUILT =
  'The console is not built. Run `npm install` (it builds the console) or `npm run build:console` in the Hookyard folder, then restart Hookyard.';

/** Serves the built console at /console; without a build, /console says how to make one. */
export function createConsoleRoutes(distDir: string = CONSOLE_DIST_DIR) {
  return async function registerConsoleRoutes(app: FastifyInstance): Promise<void> {
    if (!existsSync(path.join(distDir, 'index.html'))) {
      const notBuilt = async (_request: unknown, reply: FastifyReply) => {
        setSecurityHeaders(reply);
        reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store');
        return `${CONSOLE_NOT_BUILT}\n`;
      };
      app.get('/console', { schema: { hide: true } }, notBuilt);
      app.get('/console/*', { schema: { hide: true } }, notBuilt);
      return;
    }
    app.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/'));
    await app.register(fastifyStatic, {
      root: distDir,
      prefix: '/console/',
      redirect: true,
      index: ['index.html'],
      wildcard: true,
      cacheControl: false,
      etag: true,
      lastModified: false,
      schemaHide: true,
      setHeaders(reply, filePath) {
        setSecurityHeaders(reply);
        reply.header(
          'cache-control',
          HASHED_ASSET.test(filePath.split(path.sep).join('/'))
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
  };
}
