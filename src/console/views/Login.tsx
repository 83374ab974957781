import { useSignal } from '@preact/signals';
import { ApiError, login } from '../lib/api.ts';
import { sessionFromToken, signedOutReason, signIn } from '../lib/session.ts';

export function Login() {
  const username = useSignal('');
  const password = useSignal('');
  const token = useSignal('');
  const error = useSignal('');
  const busy = useSignal(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    error.value = '';
    busy.value = true;
    try {
      const r = await login(username.value.trim(), password.value);
      signIn({ token: r.token, expiresAt: Date.parse(r.expires_at), agent: r.agent });
    } catch (err) {
      const e2 = err as ApiError;
      error.value =
        e2.code === 'BAD_CREDENTIALS' ? 'Wrong username or password.'
        : e2.code === 'RATE_LIMITED' ? `Too many attempts. Try again in ${e2.retryAfterS ?? 60} seconds.`
        : `Sign-in failed: ${e2.message}`;
    } finally {
      busy.value = false;
    }
  };

  const useToken = (e: Event) => {
    e.preventDefault();
    const s = sessionFromToken(token.value.trim());
    if (!s || s.expiresAt <= Date.now()) error.value = 'That is not a valid, unexpired token.';
    else signIn(s);
  };

  return (
    <main class="login" id="main">
      <h1>Smart Chat</h1>
      <p class="sub">Agent console</p>
      {signedOutReason.value && <p class="banner warn" role="alert">{signedOutReason.value}</p>}
      <form onSubmit={submit} class="card" aria-labelledby="login-title">
        <h2 id="login-title">Sign in</h2>
        <label for="login-user">Username</label>
        <input id="login-user" name="username" autocomplete="username" required value={username.value} onInput={(e) => (username.value = e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autocomplete="current-password" required value={password.value} onInput={(e) => (password.value = e.currentTarget.value)} />
        {error.value && <p class="error" role="alert">{error.value}</p>}
        <button type="submit" class="primary" disabled={busy.value}>{busy.value ? 'Signing in…' : 'Sign in'}</button>
      </form>
      <details class="card token">
        <summary>Sign in with a token</summary>
        <form onSubmit={useToken}>
          <label for="login-token">Agent token (JWT)</label>
          <textarea id="login-token" rows={3} value={token.value} onInput={(e) => (token.value = e.currentTarget.value)} />
          <button type="submit">Use token</button>
        </form>
      </details>
    </main>
  );
}
