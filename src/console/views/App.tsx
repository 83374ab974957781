import { useSignal, useSignalEffect } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { connect, disconnect } from '../lib/live.ts';
import { session } from '../lib/session.ts';
import { AdminPage } from './AdminPage.tsx';
import { ChatsPage } from './ChatsPage.tsx';
import { DeskPage } from './DeskPage.tsx';
import { DiscountPage } from './DiscountPage.tsx';
import { ReportsPage } from './ReportsPage.tsx';
import '../lib/inbox.ts';
import { Header } from './Header.tsx';
import { Login } from './Login.tsx';

export type Route = 'chats' | 'discount' | 'admin' | 'reports' | 'desk';

const ROUTES: Record<string, Route> = { '#/discount': 'discount', '#/admin': 'admin', '#/reports': 'reports', '#/desk': 'desk' };
const TITLES: Record<Route, string> = { chats: 'Chats', discount: 'Discount flows', admin: 'Agents', reports: 'Reports', desk: 'Desk settings' };

function routeOf(hash: string): Route {
  return ROUTES[hash] ?? 'chats';
}

export function App() {
  const route = useSignal<Route>(routeOf(location.hash));
  useEffect(() => {
    const on = () => (route.value = routeOf(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  // One socket per signed-in session.
  useSignalEffect(() => {
    const s = session.value;
    if (s) connect(s.token);
    else disconnect();
  });
  useSignalEffect(() => {
    document.title = `${TITLES[route.value]} — Smart Chat`;
  });
  const s = session.value;
  if (!s) return <Login />;
  return (
    <div class="shell">
      <Header route={route.value} />
      <main id="main" class="main" tabIndex={-1}>
        {route.value === 'discount' ? <DiscountPage /> : route.value === 'admin' ? <AdminPage /> : route.value === 'reports' ? <ReportsPage /> : route.value === 'desk' ? <DeskPage /> : <ChatsPage />}
      </main>
    </div>
  );
}
