import { AppError } from '../infra/errors.ts';
import { verifyToken, type Identity } from '../infra/jwt.ts';

/**
 * The caller's identity from `Authorization: Bearer <jwt>`. HTTP takes the
 * header only: a token in a URL ends up in access logs, proxies and browser
 * history (the WebSocket upgrade, which browsers cannot give headers, also
 * takes `?token=`; see ws-hub.ts). Throws UNAUTHORIZED for a missing or bad
 * token and FORBIDDEN when an admin role is needed.
 */
export function authenticate(source: { headers: Readonly<Record<string, string>> }, secret: string, role: 'agent' | 'admin' = 'agent'): Identity {
  return authenticateToken(bearerToken(source.headers), secret, role);
}

/** The token of an `Authorization: Bearer` header, if there is one. */
export function bearerToken(headers: Readonly<Record<string, string>>): string | undefined {
  const header = headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() || undefined : undefined;
}

/** Verifies `token` (signature, `exp` required and honoured) and the role it needs. */
export function authenticateToken(token: string | undefined, secret: string, role: 'agent' | 'admin' = 'agent'): Identity {
  if (!token) throw new AppError('UNAUTHORIZED', 'Missing bearer token');
  const identity = verifyToken(token, secret);
  if (!identity) throw new AppError('UNAUTHORIZED', 'Invalid or expired token');
  if (role === 'admin' && identity.role !== 'admin') throw new AppError('FORBIDDEN', 'Admin token required');
  return identity;
}
