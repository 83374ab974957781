import { useSignal, useSignalEffect } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { connect, disconnect } from '../lib/live.ts';
import { session } from '../lib/session.ts';
import { AdminPage } from './AdminPage.tsx';
import { ChatsPage } from './ChatsPage.tsx';
import { DiscountPage } from './DiscountPage.tsx';
import { Header } from './Header.tsx';
import { Login } from './Login.tsx';

export type Route = 'chats' | 'discount' | 'admin';

function routeOf(hash: string): Route {
  return hash === '#/discount' ? 'discount' : hash === '#/admin' ? 'admin' : 'chats';
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
    document.title = `${route.value === 'discount' ? 'Discount flows' : route.value === 'admin' ? 'Agents' : 'Chats'} — Smart Chat`;
  });
  const s = session.value;
  if (!s) return <Login />;
  return (
    <div class="shell">
      <Header route={route.value} />
      <main id="main" class="main" tabIndex={-1}>
        {route.value === 'discount' ? <DiscountPage /> : route.value === 'admin' ? <AdminPage /> : <ChatsPage />}
      </main>
    </div>
  );
}
