/** HTTP calls with the agent's token; a 401 on any of them signs the agent out. */
import { session, signOut } from './session.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export const SESSION_ENDED = 'Your session has ended (signed out elsewhere, expired, or your account was disabled). Please sign in again.';

async function errorOf(res: Response): Promise<ApiError> {
  let code = 'HTTP_' + res.status;
  let message = res.statusText || 'Request failed';
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    /* not JSON */
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/** A request with `Authorization: Bearer`; resolves to the Response when it is 2xx. */
export async function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const s = session.value;
  const headers = new Headers(init.headers);
  if (s) headers.set('authorization', `Bearer ${s.token}`);
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401 && s) {
    signOut(SESSION_ENDED);
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await authFetch(path)).json()) as T;
}

export async function sendJson<T>(method: 'POST' | 'PATCH', path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await authFetch(path, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  return (await res.json()) as T;
}

/** Signs in without a token (a 401 here is wrong credentials, not a lost session). */
export async function login(username: string, password: string): Promise<{ token: string; expires_at: string; agent: { username: string; name: string; role: 'agent' | 'admin' } }> {
  const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as never;
}

export function newId(): string {
  return crypto.randomUUID();
}
