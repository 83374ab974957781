import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { getJson, sendJson } from '../lib/api.ts';
import { session } from '../lib/session.ts';

interface AgentRow {
  username: string;
  name: string;
  role: 'agent' | 'admin';
  disabled?: boolean;
}

export function AdminPage() {
  const agents = useSignal<AgentRow[]>([]);
  const state = useSignal('');
  const form = useSignal({ username: '', name: '', password: '', role: 'agent' as 'agent' | 'admin' });

  const load = async () => {
    try {
      const r = await getJson<{ data: { agents: AgentRow[] } | AgentRow[] }>('/api/agents');
      agents.value = Array.isArray(r.data) ? r.data : r.data.agents;
    } catch (err) {
      state.value = `Could not list agents: ${(err as Error).message}`;
    }
  };
  useEffect(() => void load(), []);

  if (session.value?.agent.role !== 'admin') return <p>Only admins can manage agents.</p>;

  const add = async (e: Event) => {
    e.preventDefault();
    try {
      await sendJson('POST', '/api/agents', form.value);
      state.value = `Added ${form.value.username}.`;
      form.value = { username: '', name: '', password: '', role: 'agent' };
      await load();
    } catch (err) {
      state.value = `Not added: ${(err as Error).message}`;
    }
  };
  const setDisabled = async (a: AgentRow, disabled: boolean) => {
    try {
      await sendJson('PATCH', `/api/agents/${encodeURIComponent(a.username)}`, { disabled });
      state.value = `${a.username} ${disabled ? 'disabled' : 'enabled'}.`;
      await load();
    } catch (err) {
      state.value = `Not changed: ${(err as Error).message}`;
    }
  };
  const f = form.value;
  const set = (patch: Partial<typeof f>) => (form.value = { ...f, ...patch });

  return (
    <section class="admin" aria-labelledby="admin-title">
      <h1 id="admin-title">Agents</h1>
      <p role="status" class="state">{state.value}</p>
      <table>
        <caption class="visually-hidden">Agent accounts</caption>
        <thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {agents.value.map((a) => (
            <tr key={a.username} data-agent={a.username}>
              <td>{a.username}</td><td>{a.name}</td><td>{a.role}</td><td>{a.disabled ? 'Disabled' : 'Enabled'}</td>
              <td>
                {a.username !== session.value?.agent.username && (
                  <button type="button" onClick={() => void setDisabled(a, !a.disabled)} aria-label={`${a.disabled ? 'Enable' : 'Disable'} ${a.username}`}>{a.disabled ? 'Enable' : 'Disable'}</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="card add-agent" onSubmit={add} aria-labelledby="add-title">
        <h2 id="add-title">Add an agent</h2>
        <label for="new-username">Username</label>
        <input id="new-username" required autocomplete="off" value={f.username} onInput={(e) => set({ username: e.currentTarget.value })} />
        <label for="new-name">Name</label>
        <input id="new-name" required value={f.name} onInput={(e) => set({ name: e.currentTarget.value })} />
        <label for="new-password">Password</label>
        <input id="new-password" type="password" required autocomplete="new-password" value={f.password} onInput={(e) => set({ password: e.currentTarget.value })} />
        <label for="new-role">Role</label>
        <select id="new-role" value={f.role} onChange={(e) => set({ role: e.currentTarget.value as 'agent' | 'admin' })}>
          <option value="agent">Agent</option>
          <option value="admin">Admin</option>
        </select>
        <button type="submit" class="primary">Add agent</button>
      </form>
    </section>
  );
}
