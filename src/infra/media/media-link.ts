/**
 * Short-lived signed media URLs, for the places a browser cannot send an
 * Authorization header (`<img>`, `<video>`, `<audio>` sources): an HMAC over
 * the media id and an expiry, valid for that one file only. The key is
 * derived from AGENT_JWT_SECRET under its own label, so a signature is never
 * a token (and a token is never a signature).
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../safe-equal.ts';

/** One hour: long enough to watch a video and seek in it (each seek is a new range request). */
export const MEDIA_LINK_TTL_S = 3600;

const keyOf = (secret: string) => createHmac('sha256', secret).update('smart-chat media link v1').digest();

const signature = (secret: string, id: string, exp: number) => createHmac('sha256', keyOf(secret)).update(`${id}\n${exp}`).digest('base64url');

/** `/api/media/{id}?exp=…&sig=…`, valid until `exp` (Unix seconds). */
export function signedMediaPath(secret: string, id: string, nowMs = Date.now(), ttlS = MEDIA_LINK_TTL_S): { url: string; expiresAt: Date } {
  const exp = Math.floor(nowMs / 1000) + ttlS;
  return { url: `/api/media/${encodeURIComponent(id)}?exp=${exp}&sig=${signature(secret, id, exp)}`, expiresAt: new Date(exp * 1000) };
}

/** True when `sig` signs `id` until `exp` and `exp` has not passed. */
export function verifyMediaLink(secret: string, id: string, exp: number, sig: string, nowMs = Date.now()): boolean {
  if (!Number.isSafeInteger(exp) || exp * 1000 <= nowMs) return false;
  return safeEqual(sig, signature(secret, id, exp));
}

/** The stable path of a stored file (on the message as `mediaUrl`; fetched with an agent's `Authorization: Bearer`). */
export const mediaPath = (id: string): string => `/api/media/${encodeURIComponent(id)}`;
