import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { authFetch, sendJson } from '../lib/api.ts';
import { cannedResponses, labelCatalogue, loadDesk } from '../lib/desk.ts';
import { session } from '../lib/session.ts';
import { LabelChip } from './LabelChip.tsx';

/** Admins manage canned responses and the label catalogue. */
export function DeskPage() {
  const state = useSignal('');
  const canned = useSignal({ shortcode: '', title: '', text: '' });
  const label = useSignal({ name: '', color: '#0b5cad', description: '' });
  useEffect(() => void loadDesk(), []);
  if (session.value?.agent.role !== 'admin') return <p>Only admins can change desk settings.</p>;

  const run = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      state.value = done;
      await loadDesk();
    } catch (err) {
      state.value = `Not saved: ${(err as Error).message}`;
    }
  };
  const c = canned.value;
  const l = label.value;
  return (
    <section class="admin desk" aria-labelledby="desk-title">
      <h1 id="desk-title">Desk settings</h1>
      <p role="status" class="state">{state.value}</p>
      <h2>Canned responses</h2>
      <p class="state">Agents type <kbd>/</kbd> and the shortcode in the reply box. Variables: <code>{'{{customer_name}}'}</code>, <code>{'{{customer_number}}'}</code>, <code>{'{{agent_name}}'}</code>.</p>
      <table>
        <caption class="visually-hidden">Canned responses</caption>
        <thead><tr><th scope="col">Shortcode</th><th scope="col">Title</th><th scope="col">Text</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {cannedResponses.value.map((r) => (
            <tr key={r.shortcode} data-canned={r.shortcode}>
              <td>/{r.shortcode}</td><td>{r.title}</td><td class="pre">{r.text}</td>
              <td><button type="button" aria-label={`Delete /${r.shortcode}`} onClick={() => void run(() => authFetch(`/api/canned-responses/${encodeURIComponent(r.shortcode)}`, { method: 'DELETE' }), `Deleted /${r.shortcode}.`)}>Delete</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="card add-agent" aria-labelledby="add-canned" onSubmit={(e) => { e.preventDefault(); void run(() => sendJson('POST', '/api/canned-responses', c), `Added /${c.shortcode}.`).then(() => (canned.value = { shortcode: '', title: '', text: '' })); }}>
        <h3 id="add-canned">Add a canned response</h3>
        <label for="canned-shortcode">Shortcode</label>
        <input id="canned-shortcode" required pattern="[a-z0-9][a-z0-9_\-]*" maxLength={32} value={c.shortcode} onInput={(e) => (canned.value = { ...c, shortcode: e.currentTarget.value })} />
        <label for="canned-title">Title</label>
        <input id="canned-title" required maxLength={80} value={c.title} onInput={(e) => (canned.value = { ...c, title: e.currentTarget.value })} />
        <label for="canned-text">Text</label>
        <textarea id="canned-text" required rows={3} maxLength={4096} value={c.text} onInput={(e) => (canned.value = { ...c, text: e.currentTarget.value })} />
        <button type="submit" class="primary">Add response</button>
      </form>
      <h2>Labels</h2>
      <ul class="label-list">
        {labelCatalogue.value.map((x) => (
          <li key={x.name} data-catalogue-label={x.name}>
            <LabelChip name={x.name} /> <span class="state">{x.description}</span>
            <button type="button" aria-label={`Delete label ${x.name}`} onClick={() => void run(() => authFetch(`/api/labels/${encodeURIComponent(x.name)}`, { method: 'DELETE' }), `Deleted ${x.name}.`)}>Delete</button>
          </li>
        ))}
      </ul>
      <form class="card add-agent" aria-labelledby="add-label" onSubmit={(e) => { e.preventDefault(); void run(() => sendJson('POST', '/api/labels', l), `Added ${l.name}.`).then(() => (label.value = { name: '', color: '#0b5cad', description: '' })); }}>
        <h3 id="add-label">Add a label</h3>
        <label for="label-name">Name (lower-case words joined by hyphens)</label>
        <input id="label-name" required pattern="[a-z0-9]+(-[a-z0-9]+)*" maxLength={32} value={l.name} onInput={(e) => (label.value = { ...l, name: e.currentTarget.value })} />
        <label for="label-color">Colour</label>
        <input id="label-color" type="color" value={l.color} onInput={(e) => (label.value = { ...l, color: e.currentTarget.value })} />
        <label for="label-description">Description</label>
        <input id="label-description" maxLength={200} value={l.description} onInput={(e) => (label.value = { ...l, description: e.currentTarget.value })} />
        <button type="submit" class="primary">Add label</button>
      </form>
    </section>
  );
}
