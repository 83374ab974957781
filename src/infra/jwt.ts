import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** What a verified agent or admin token says (CONTRACT.md "Tokens"). */
export interface Identity {
  /** The dashboard identity the spec calls `sender`. */
  sub: string;
  role: 'agent' | 'admin';
  /** Unix seconds; every token expires. */
  exp: number;
  /** The account's token version, in tokens `POST /api/auth/login` issues; absent in tokens minted elsewhere with the secret. */
  tv?: number;
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(100),
  role: z.enum(['agent', 'admin']).default('agent'),
  exp: z.number().int(),
  nbf: z.number().int().optional(),
  tv: z.number().int().min(1).optional(),
});

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/** Lifetime of a token signed without an explicit one. */
export const DEFAULT_TOKEN_TTL_S = 12 * 3600;

/** Signs an HS256 token (used for the development token and by tests and benchmarks); it always expires. */
export function signToken(claims: { sub: string; role?: 'agent' | 'admin'; ttlSeconds?: number; tv?: number; nowSeconds?: number }, secret: string): string {
  const now = claims.nowSeconds ?? Math.floor(Date.now() / 1000);
  const payload = { sub: claims.sub, role: claims.role ?? 'agent', iat: now, exp: now + (claims.ttlSeconds ?? DEFAULT_TOKEN_TTL_S), ...(claims.tv === undefined ? {} : { tv: claims.tv }) };
  const body = `${HEADER}.${base64url(JSON.stringify(payload))}`;
  return `${body}.${hmac(body, secret)}`;
}

/** Verifies an HS256 token; returns null for anything malformed, forged, expired or without `exp`. */
export function verifyToken(token: string, secret: string, nowSeconds = Math.floor(Date.now() / 1000)): Identity | null {
  if (token.length > 4096) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  const expected = Buffer.from(hmac(`${header}.${payload}`, secret));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown };
    if (h.alg !== 'HS256') return null;
    const claims = claimsSchema.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    if (claims.exp <= nowSeconds) return null;
    if (claims.nbf !== undefined && claims.nbf > nowSeconds) return null;
    return { sub: claims.sub, role: claims.role, exp: claims.exp, ...(claims.tv === undefined ? {} : { tv: claims.tv }) };
  } catch {
    return null;
  }
}

function hmac(data: string, secret: string): string {
  return createHmac('sha256', secret).update(data).digest('base64url');
}

function base64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
