import { z } from 'zod';
import { AppError } from '../infra/errors.ts';
import type { RouteDoc } from './api-schemas.ts';
import type { ConsoleBuild, ConsoleFile } from './console-build.ts';
import type { Handler, HttpRouter, Reply, Request } from './http.ts';

/**
 * The agent console's own files: no inline script or style, nothing from
 * another origin. `connect-src 'self'` covers the same-origin WebSocket;
 * media load from signed same-origin links (GET /api/media/{id}/link).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONSOLE_CSP,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const consoleAsset = z.string().regex(/^[\w-]{1,64}\.(js|css)$/, 'a console asset name');

function fileReply(req: Request, file: ConsoleFile, cacheControl: string): Reply {
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  return {
    bytes: gzip ? file.gzip : file.bytes,
    contentType: file.contentType,
    headers: { ...SECURITY_HEADERS, 'cache-control': cacheControl, vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
  };
}

/**
 * `GET /`: the console's page (always revalidated, so a new build is picked
 * up at once); `GET /console/{file}`: its hashed script and style, cached for
 * a year. When the build failed at start-up the page answers 503 and the API
 * goes on serving.
 */
export function registerConsoleRoutes(router: HttpRouter, build: ConsoleBuild | Error): void {
  const page: Handler = (req) => {
    if (build instanceof Error) throw new AppError('NOT_READY', `The agent console could not be built: ${build.message.slice(0, 200)}`);
    return fileReply(req, build.html, 'no-cache');
  };
  router.get('/', page);
  router.get('/console/:file', (req) => {
    const name = req.params[0] ?? '';
    const file = build instanceof Error || !consoleAsset.safeParse(name).success ? undefined : build.files.get(name);
    if (!file) throw new AppError('NOT_FOUND', `No console file ${name.slice(0, 80)}`);
    return fileReply(req, file, 'public, max-age=31536000, immutable');
  });
}

export const consoleRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/', tags: ['console'], summary: 'The agent console (its login page when signed out)',
    description: 'A single page; its script and style are under /console/. Gzipped when the client accepts it. 503 NOT_READY when the console could not be built at start-up.',
    responses: { 200: { description: 'The console page', contentType: 'text/html' } },
    errors: ['NOT_READY'],
  },
  {
    method: 'get', path: '/console/{file}', tags: ['console'], summary: 'One of the console\'s content-hashed script and style files (cached for a year)',
    params: { file: { schema: consoleAsset, description: 'an asset name from the console page, e.g. app-3FJX2KQH.js' } },
    responses: { 200: { description: 'The file (text/javascript or text/css)', contentType: '*/*' } },
    errors: ['NOT_FOUND'],
  },
];
