/**
 * Who is signed in. The token lives in sessionStorage: it survives a reload
 * of the tab but not the tab itself, so a shared support-desk computer does
 * not keep an agent signed in after the tab is closed, and each tab signs in
 * on its own (localStorage would hand the session to every tab and keep it
 * after the browser closes).
 */
import { signal } from '@preact/signals';

export interface Agent {
  username: string;
  name: string;
  role: 'agent' | 'admin';
}

export interface Session {
  token: string;
  expiresAt: number;
  agent: Agent;
}

const KEY = 'smart-chat.session';

function restore(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export const session = signal<Session | null>(restore());
/** Why the agent was signed out (shown on the login page). */
export const signedOutReason = signal<string>('');

export function signIn(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
  signedOutReason.value = '';
  session.value = s;
}

export function signOut(reason = ''): void {
  sessionStorage.removeItem(KEY);
  signedOutReason.value = reason;
  session.value = null;
}

/** A session from a bare token (the development token, or one from another service): its claims, unverified (the server checks it). */
export function sessionFromToken(token: string): Session | null {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown; role?: unknown; exp?: unknown };
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
    const role = payload.role === 'admin' ? 'admin' : 'agent';
    return { token, expiresAt: payload.exp * 1000, agent: { username: payload.sub, name: payload.sub, role } };
  } catch {
    return null;
  }
}
