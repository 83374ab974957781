import { availability, dismissMention, mentions, setAvailability } from '../lib/inbox.ts';
import { currentSocket, openConversation, stats } from '../lib/live.ts';
import { session, signOut } from '../lib/session.ts';
import type { Availability } from '../lib/types.ts';
import type { Route } from './App.tsx';

function Mentions() {
  const list = mentions.value;
  return (
    <div class="mentions" role="region" aria-live="polite" aria-label="Mentions">
      {list.slice(0, 3).map((m) => (
        <div class="toast" role="status" key={m.message_id} data-mention={m.chat_id}>
          <span><strong>{m.by}</strong> mentioned you on {m.customer}: “{m.text.slice(0, 80)}”</span>
          <button type="button" onClick={() => { location.hash = '#/'; void openConversation(m.chat_id); dismissMention(m.message_id); }}>Open</button>
          <button type="button" aria-label="Dismiss" onClick={() => dismissMention(m.message_id)}>×</button>
        </div>
      ))}
    </div>
  );
}

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
        {s.agent.role === 'admin' && link('reports', '#/reports', 'Reports')}
        {s.agent.role === 'admin' && link('desk', '#/desk', 'Desk settings')}
        {s.agent.role === 'admin' && link('admin', '#/admin', 'Agents')}
      </nav>
      <dl class="stats" aria-label="Dashboard counts" aria-live="polite">
        <div><dt>Active</dt><dd data-stat="active">{st ? st.active : '…'}</dd></div>
        <div><dt>Resolved</dt><dd data-stat="resolved">{st ? st.resolved : '…'}</dd></div>
        <div><dt>Pending</dt><dd data-stat="pending">{st ? st.pending : '…'}</dd></div>
        {st?.snoozed !== undefined && <div><dt>Snoozed</dt><dd data-stat="snoozed">{st.snoozed}</dd></div>}
      </dl>
      <label class="availability">
        <span class="visually-hidden">My availability</span>
        <select data-availability={availability.value} value={availability.value} disabled={conn !== 'open'} onChange={(e) => void setAvailability(e.currentTarget.value as Availability).catch(() => undefined)}>
          <option value="online">● Online</option>
          <option value="busy">● Busy</option>
          <option value="offline">○ Offline</option>
        </select>
      </label>
      <span class={`conn ${conn}`} role="status">{conn === 'open' ? 'Live' : conn === 'reconnecting' ? 'Reconnecting…' : conn === 'connecting' ? 'Connecting…' : 'Offline'}</span>
      <span class="who">{s.agent.name}{s.agent.role === 'admin' ? ' (admin)' : ''}</span>
      <button type="button" onClick={() => signOut('You signed out.')}>Sign out</button>
      <Mentions />
    </header>
  );
}
