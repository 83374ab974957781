import { currentSocket, stats } from '../lib/live.ts';
import { session, signOut } from '../lib/session.ts';
import type { Route } from './App.tsx';

export function Header({ route }: { route: Route }) {
  const s = session.value!;
  const st = stats.value;
  const conn = currentSocket.value?.state.value ?? 'connecting';
  const link = (to: Route, href: string, label: string) => (
    <a href={href} aria-current={route === to ? 'page' : undefined} class={route === to ? 'current' : ''}>{label}</a>
  );
  return (
    <header class="top">
      <a class="skip" href="#main">Skip to content</a>
      <span class="brand">Smart Chat</span>
      <nav aria-label="Pages">
        {link('chats', '#/', 'Chats')}
        {link('discount', '#/discount', 'Discount flows')}
        {s.agent.role === 'admin' && link('admin', '#/admin', 'Agents')}
      </nav>
      <dl class="stats" aria-label="Dashboard counts" aria-live="polite">
        <div><dt>Active</dt><dd data-stat="active">{st ? st.active : '…'}</dd></div>
        <div><dt>Resolved</dt><dd data-stat="resolved">{st ? st.resolved : '…'}</dd></div>
        <div><dt>Pending</dt><dd data-stat="pending">{st ? st.pending : '…'}</dd></div>
      </dl>
      <span class={`conn ${conn}`} role="status">{conn === 'open' ? 'Live' : conn === 'reconnecting' ? 'Reconnecting…' : conn === 'connecting' ? 'Connecting…' : 'Offline'}</span>
      <span class="who">{s.agent.name}{s.agent.role === 'admin' ? ' (admin)' : ''}</span>
      <button type="button" onClick={() => signOut('You signed out.')}>Sign out</button>
    </header>
  );
}
