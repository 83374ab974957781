/**
 * `GET /api/media/{id}`: a stored customer media file, streamed from its
 * driver with its type, length, entity tag, caching headers, conditional
 * GETs (304) and byte ranges (206), so audio and video seek in a browser.
 * `GET /api/media/{id}/link`: the same path signed for that file only, for
 * `<img>`/`<video>` sources, which cannot send an Authorization header.
 */
import { z } from 'zod';
import { AppError, errorBody } from '../infra/errors.ts';
import { MEDIA_LINK_TTL_S, signedMediaPath, verifyMediaLink } from '../infra/media/media-link.ts';
import { rangeLength, type ByteRange, type MediaStorage, type StoredMedia } from '../infra/media/media-storage.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRouter, Reply, Request } from './http.ts';
import { validate } from './validate.ts';

export interface MediaRouteDeps {
  storage: MediaStorage;
  /** Agent tokens; its secret also keys the signed links. */
  auth: Authenticator;
}

export const mediaId = z.string().regex(/^[\w.-]{1,128}$/, 'a media id');
export const mediaLinkQuery = z.object({
  exp: z.coerce.number().int().min(0).max(2 ** 40).optional().describe('signed link: expiry, Unix seconds'),
  sig: z.string().regex(/^[\w-]{43}$/, 'a link signature').optional().describe('signed link: HMAC of the id and exp (from GET /api/media/{id}/link or a message_media push)'),
});

/** Types a browser may show inline; anything else is a download, so stored files never run as pages here. */
const INLINE = /^(image\/(jpeg|png|webp|gif)|video\/(mp4|3gpp)|audio\/(aac|mp4|mpeg|amr|ogg)(;.*)?)$/;

/** The bytes of a file never change under its id (WhatsApp's media id): a browser may keep them a day. */
const CACHE_CONTROL = 'private, max-age=86400';

export function registerMediaRoutes(router: HttpRouter, deps: MediaRouteDeps): void {
  router.get('/api/media/:id', async (req) => {
    const id = validate(mediaId, req.params[0] ?? '');
    const q = validate(mediaLinkQuery, Object.fromEntries(req.query));
    if (q.sig !== undefined || q.exp !== undefined) {
      if (q.sig === undefined || q.exp === undefined || !verifyMediaLink(deps.auth.secret, id, q.exp, q.sig)) throw new AppError('UNAUTHORIZED', 'The media link is invalid or has expired');
    } else {
      await authenticate(req, deps.auth);
    }
    const file = await deps.storage.stat(id);
    if (!file) throw new AppError('NOT_FOUND', `No stored media ${id}`);
    return answer(req, deps.storage, file);
  });

  router.get('/api/media/:id/link', async (req) => {
    await authenticate(req, deps.auth);
    const id = validate(mediaId, req.params[0] ?? '');
    if (!(await deps.storage.stat(id))) throw new AppError('NOT_FOUND', `No stored media ${id}`);
    const link = signedMediaPath(deps.auth.secret, id);
    return { json: { status: 1, data: { url: link.url, expires_at: link.expiresAt.toISOString() } }, headers: { 'cache-control': 'no-store' } };
  });
}

async function answer(req: Request, storage: MediaStorage, file: StoredMedia): Promise<Reply> {
  const inline = INLINE.test(file.contentType);
  const headers: Record<string, string> = {
    etag: file.etag,
    'last-modified': file.storedAt.toUTCString(),
    'cache-control': CACHE_CONTROL,
    'accept-ranges': 'bytes',
    'content-security-policy': "default-src 'none'; sandbox",
    ...(inline ? {} : { 'content-disposition': `attachment; filename="${file.id}"` }),
  };
  const contentType = inline ? file.contentType : 'application/octet-stream';
  if (matches(req.headers['if-none-match'], file.etag)) return { status: 304, bytes: new Uint8Array(0), contentType, headers };
  // If-Range: a range only of the same bytes the client already has part of; otherwise the whole file.
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRange === undefined || ifRange === file.etag ? req.headers.range : undefined;
  const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, file.size);
  if (range === 'unsatisfiable') {
    return { status: 416, json: errorBody(new AppError('RANGE_NOT_SATISFIABLE', `The file has ${file.size} bytes`)), headers: { 'content-range': `bytes */${file.size}`, 'accept-ranges': 'bytes' } };
  }
  const length = rangeLength(file.size, range ?? undefined);
  const source = req.method === 'HEAD' ? undefined : await storage.open(file.id, range ?? undefined);
  return {
    status: range ? 206 : 200,
    stream: { length, ...(source ? { source } : {}) },
    contentType,
    headers: { ...headers, ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${file.size}` } : {}) },
  };
}

/** True when an If-None-Match list names `etag` (weak comparison, as RFC 9110 asks for it) or is `*`. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === bare;
  });
}

/**
 * A `Range: bytes=…` header against a file of `size` bytes: the range to
 * send, null to ignore the header (not a bytes range: send the whole file),
 * or 'unsatisfiable'. Of several ranges only the first is sent (a single
 * 206 part; no multipart/byteranges).
 */
export function parseRange(header: string, size: number): ByteRange | null | 'unsatisfiable' {
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*(?:,.*)?$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  if (end < start) return null; // a malformed range: ignored, as RFC 9110 says
  return { start, end };
}

const linkBody = okBody({ data: z.object({ url: z.string().describe('/api/media/{id}?exp=…&sig=…'), expires_at: z.iso.datetime({ offset: true }) }) });

export const mediaRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/media/{id}', tags: ['media'], auth: 'agent', summary: 'A stored customer media file',
    description:
      'Streams the bytes with the stored content type (inline for image/video/audio types a browser may show, otherwise an attachment as application/octet-stream), ' +
      'Content-Length, ETag, Last-Modified, Cache-Control: private, max-age=86400 and Accept-Ranges: bytes. If-None-Match with the ETag answers 304. ' +
      'Range: bytes=a-b, a- or -n answers 206 with Content-Range (If-Range honoured); of several ranges only the first is sent; a range starting past the end answers 416 with Content-Range: bytes */size. ' +
      `Instead of the Authorization header, \`exp\` and \`sig\` from GET /api/media/{id}/link (valid ${MEDIA_LINK_TTL_S / 60} min, for this file only) authorise the request, so <img> and <video> sources work.`,
    params: { id: { schema: mediaId, description: 'the WhatsApp media id' } },
    query: mediaLinkQuery,
    headers: {
      range: { schema: z.string(), description: 'bytes=start-end, start- or -suffix' },
      'if-none-match': { schema: z.string(), description: 'the ETag a cached copy has: 304 when it still matches' },
      'if-range': { schema: z.string(), description: 'the ETag the client has part of: the range is sent only if it still matches' },
    },
    responses: {
      200: { description: 'The whole file', contentType: '*/*' },
      206: { description: 'One byte range of the file (Content-Range)', contentType: '*/*' },
      304: { description: 'Not modified: the ETag in If-None-Match still matches', contentType: '*/*' },
    },
    errors: ['NOT_FOUND', 'VALIDATION_FAILED', 'RANGE_NOT_SATISFIABLE'],
  },
  {
    method: 'get', path: '/api/media/{id}/link', tags: ['media'], auth: 'agent', summary: 'A signed, short-lived URL of one stored media file',
    description: `The file's path with \`exp\` and \`sig\`: usable without a token for ${MEDIA_LINK_TTL_S / 60} minutes, for this file only (an HMAC of the id and expiry with a key derived from AGENT_JWT_SECRET).`,
    params: { id: { schema: mediaId, description: 'the WhatsApp media id' } },
    responses: { 200: { description: 'The signed path and when it expires', schema: linkBody } },
    errors: ['NOT_FOUND', 'VALIDATION_FAILED'],
  },
];
