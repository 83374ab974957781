import { AppError } from '../infra/errors.ts';
import { verifyToken, type Identity } from '../infra/jwt.ts';

/** Whether a verified token still stands (account tokens can be revoked: actors/agents/agent-tokens.ts). */
export interface TokenStanding {
  isCurrent(identity: Identity): Promise<boolean>;
}

const EVERY_TOKEN_STANDS: TokenStanding = { isCurrent: async () => true };

/** The secret that verifies tokens and the check that revokes account tokens: what every authenticated route and the WebSocket hold. */
export class Authenticator {
  constructor(
    readonly secret: string,
    private readonly standing: TokenStanding = EVERY_TOKEN_STANDS,
  ) {}

  /** Verifies `token` (signature, `exp` required and honoured), that it was not revoked, and the role it needs. */
  async token(token: string | undefined, role: 'agent' | 'admin' = 'agent'): Promise<Identity> {
    if (!token) throw new AppError('UNAUTHORIZED', 'Missing bearer token');
    const identity = verifyToken(token, this.secret);
    if (!identity) throw new AppError('UNAUTHORIZED', 'Invalid or expired token');
    if (!(await this.standing.isCurrent(identity))) throw new AppError('UNAUTHORIZED', 'Token revoked: the account was disabled or its password or role changed');
    if (role === 'admin' && identity.role !== 'admin') throw new AppError('FORBIDDEN', 'Admin token required');
    return identity;
  }

  isCurrent(identity: Identity): Promise<boolean> {
    return this.standing.isCurrent(identity);
  }
}

/**
 * The caller's identity from `Authorization: Bearer <jwt>`. HTTP takes the
 * header only: a token in a URL ends up in access logs, proxies and browser
 * history (the WebSocket upgrade, which browsers cannot give headers, also
 * takes `?token=`; see ws-hub.ts). Rejects with UNAUTHORIZED for a missing,
 * bad or revoked token and FORBIDDEN when an admin role is needed.
 */
export function authenticate(source: { headers: Readonly<Record<string, string>> }, auth: Authenticator, role: 'agent' | 'admin' = 'agent'): Promise<Identity> {
  return auth.token(bearerToken(source.headers), role);
}

/** The token of an `Authorization: Bearer` header, if there is one. */
export function bearerToken(headers: Readonly<Record<string, string>>): string | undefined {
  const header = headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() || undefined : undefined;
}
