import { AppError } from '../infra/errors.ts';
import { verifyToken, type Identity } from '../infra/jwt.ts';

/**
 * The caller's identity from `Authorization: Bearer <jwt>` (or a `token` query
 * parameter, which browsers need for WebSocket upgrades). Throws UNAUTHORIZED
 * for a missing or bad token and FORBIDDEN when an admin role is needed.
 */
export function authenticate(
  source: { headers: Readonly<Record<string, string>>; query?: URLSearchParams },
  secret: string,
  role: 'agent' | 'admin' = 'agent',
): Identity {
  const header = source.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7).trim() : (source.query?.get('token') ?? '');
  if (!token) throw new AppError('UNAUTHORIZED', 'Missing bearer token');
  const identity = verifyToken(token, secret);
  if (!identity) throw new AppError('UNAUTHORIZED', 'Invalid or expired token');
  if (role === 'admin' && identity.role !== 'admin') throw new AppError('FORBIDDEN', 'Admin token required');
  return identity;
}
