import { useSignal } from '@preact/signals';
import { ApiError, getJson, newId, sendJson } from '../lib/api.ts';
import { cannedMatches, expandCanned, shortcodeQuery, type CannedResponse } from '../lib/desk.ts';
import { agentTyping, sendNote } from '../lib/inbox.ts';
import { socket, windowClosed, windowRefused } from '../lib/live.ts';
import { session } from '../lib/session.ts';
import { composeMode } from '../lib/shortcuts.ts';
import { WsError } from '../lib/socket.ts';
import type { Chat } from '../lib/types.ts';

type Kind = 'text' | 'image' | 'video' | 'audio' | 'document' | 'buttons' | 'list' | 'cta_url' | 'contact_card';
const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'text', label: 'Text' },
  { kind: 'image', label: 'Image (link)' },
  { kind: 'video', label: 'Video (link)' },
  { kind: 'audio', label: 'Audio (link)' },
  { kind: 'document', label: 'Document (link)' },
  { kind: 'buttons', label: 'Reply buttons' },
  { kind: 'list', label: 'List' },
  { kind: 'cta_url', label: 'Link button' },
  { kind: 'contact_card', label: 'Contact card' },
];

const TEMPLATES = [
  { name: 'ask_issue_resolved', label: 'Ask whether the issue is resolved (ask_issue_resolved)' },
];

/** Sends one built message through POST /api/console/chats/{chat_id}/messages (every outbound builder but text and template). */
async function sendRich(chat: Chat, body: Record<string, unknown>): Promise<void> {
  await sendJson('POST', `/api/console/chats/${encodeURIComponent(chat.chat_id)}/messages`, body, { 'idempotency-key': newId() });
}

function describe(err: unknown): string {
  if (err instanceof ApiError || err instanceof WsError) return err.message;
  return (err as Error).message ?? String(err);
}

function TemplatePicker({ chat }: { chat: Chat }) {
  const name = useSignal(TEMPLATES[0]!.name);
  const custom = useSignal('');
  const language = useSignal('hi');
  const state = useSignal('');
  const send = async (e: Event) => {
    e.preventDefault();
    const template = name.value === 'other' ? custom.value.trim() : name.value;
    state.value = 'Sending…';
    try {
      const q = new URLSearchParams({ to: chat.customer, name: template, language: language.value, ...(chat.channel ? { channel: chat.channel } : {}) });
      await getJson(`/api/chats/send_whatsapp_template?${q}`);
      state.value = `Template ${template} sent.`;
    } catch (err) {
      state.value = `Not sent: ${describe(err)}`;
    }
  };
  return (
    <form class="template" onSubmit={send} aria-label="Send a template">
      <label for="tpl-name">Template</label>
      <select id="tpl-name" value={name.value} onChange={(e) => (name.value = e.currentTarget.value)}>
        {TEMPLATES.map((t) => <option key={t.name} value={t.name}>{t.label}</option>)}
        <option value="other">Another approved template…</option>
      </select>
      {name.value === 'other' && (
        <>
          <label for="tpl-custom">Template name</label>
          <input id="tpl-custom" required pattern="[a-z0-9_]{1,512}" value={custom.value} onInput={(e) => (custom.value = e.currentTarget.value)} />
        </>
      )}
      <label for="tpl-lang">Language</label>
      <select id="tpl-lang" value={language.value} onChange={(e) => (language.value = e.currentTarget.value)}>
        <option value="hi">Hindi (hi)</option>
        <option value="en">English (en)</option>
        <option value="en_US">English US (en_US)</option>
      </select>
      <button type="submit" class="primary">Send template</button>
      <p role="status" class="state">{state.value}</p>
    </form>
  );
}

export function Composer({ chat }: { chat: Chat }) {
  const kind = useSignal<Kind>('text');
  const text = useSignal('');
  const link = useSignal('');
  const caption = useSignal('');
  const filename = useSignal('');
  const options = useSignal('');
  const button = useSignal('Choose');
  const url = useSignal('');
  const state = useSignal('');
  const sending = useSignal(false);

  const run = async (what: () => Promise<void>, clear: () => void, restore: () => void = () => undefined) => {
    sending.value = true;
    state.value = '';
    try {
      await what();
      clear();
    } catch (err) {
      restore();
      if ((err as { code?: string }).code === 'OUTSIDE_SERVICE_WINDOW') windowRefused.value = true;
      else state.value = `Not sent: ${describe(err)}`;
    } finally {
      sending.value = false;
    }
  };

  // The box empties at once, as in a chat app; a refused message comes back into it (unless something new was typed).
  const sendText = () => {
    const message = text.value.trim();
    if (!message) return;
    text.value = '';
    const note = composeMode.value === 'note';
    void run(async () => void (note ? await sendNote(chat.chat_id, message) : await socket!.request('send_message', { chat_id: chat.chat_id, message })), () => undefined, () => {
      if (text.value === '') text.value = message;
    });
  };

  // Canned responses: `/word` at the end of the box lists matches; choosing one replaces the `/word` with its text, variables filled in.
  const picked = useSignal(0);
  const query = kind.value === 'text' || composeMode.value === 'note' ? shortcodeQuery(text.value) : null;
  const suggestions = query === null ? [] : cannedMatches(query);
  const insert = (c: CannedResponse) => {
    const filled = expandCanned(c.text, { customer_name: chat.customer_name ?? '', customer_number: chat.customer, agent_name: session.value?.agent.name ?? '' });
    text.value = text.value.replace(/\/[a-z0-9_-]*$/, filled);
    picked.value = 0;
    document.getElementById('compose-text')?.focus();
  };


  const lines = () => options.value.split('\n').map((l) => l.trim()).filter(Boolean);
  const sendOther = (e: Event) => {
    e.preventDefault();
    const k = kind.value;
    if (k === 'text') return sendText();
    let body: Record<string, unknown>;
    if (k === 'image' || k === 'video' || k === 'audio' || k === 'document') {
      body = { type: k, link: link.value.trim(), ...(caption.value.trim() && k !== 'audio' ? { caption: caption.value.trim() } : {}), ...(k === 'document' && filename.value.trim() ? { filename: filename.value.trim() } : {}) };
    } else if (k === 'buttons') {
      body = { type: 'buttons', body: text.value.trim(), buttons: lines().map((title, i) => ({ id: `b${i + 1}`, title })) };
    } else if (k === 'list') {
      body = { type: 'list', body: text.value.trim(), button: button.value.trim(), rows: lines().map((l, i) => { const [title, description] = l.split('|').map((s) => s.trim()); return { id: `r${i + 1}`, title, ...(description ? { description } : {}) }; }) };
    } else if (k === 'cta_url') {
      body = { type: 'cta_url', body: text.value.trim(), display_text: button.value.trim(), url: url.value.trim() };
    } else body = { type: 'contact_card' };
    void run(() => sendRich(chat, body), () => {
      text.value = link.value = caption.value = filename.value = options.value = url.value = '';
      state.value = 'Sent.';
    });
  };

  const askResolved = () =>
    void run(
      () => sendRich(chat, { type: 'buttons', body: 'Is your issue resolved?', buttons: [{ id: 'issue_resolved_yes', title: 'Yes, resolved' }, { id: 'issue_resolved_no', title: 'No, not yet' }] }),
      () => (state.value = 'Asked whether the issue is resolved.'),
    );

  const note = composeMode.value === 'note';
  if (windowClosed.value && !note) {
    return (
      <div class="composer closed">
        <p class="banner warn" role="status" data-window="closed">
          The customer has not written in the last 24 hours, so WhatsApp only lets you send an approved template. Pick one below; a free reply becomes possible again when they answer.
        </p>
        <TemplatePicker chat={chat} />
        <button type="button" onClick={() => (composeMode.value = 'note')}>Write a private note instead</button>
      </div>
    );
  }

  const k = note ? 'text' : kind.value;
  return (
    <form class={`composer${note ? ' note-mode' : ''}`} onSubmit={sendOther} aria-label={note ? 'Write a private note' : 'Compose a message'}>
      <div class="composer-row">
        <div class="mode" role="radiogroup" aria-label="Reply or private note (Alt+N)">
          <button type="button" role="radio" aria-checked={!note} data-mode="reply" onClick={() => (composeMode.value = 'reply')}>Reply</button>
          <button type="button" role="radio" aria-checked={note} data-mode="note" onClick={() => (composeMode.value = 'note')}>Private note</button>
        </div>
        {!note && (
          <>
            <label for="compose-kind" class="visually-hidden">Message type</label>
            <select id="compose-kind" value={k} onChange={(e) => (kind.value = e.currentTarget.value as Kind)}>
              {KINDS.map((o) => <option key={o.kind} value={o.kind}>{o.label}</option>)}
            </select>
            <button type="button" onClick={askResolved} disabled={sending.value}>Ask “issue resolved?”</button>
          </>
        )}
      </div>
      {(k === 'text' || k === 'buttons' || k === 'list' || k === 'cta_url') && (
        <>
          <label for="compose-text" class="visually-hidden">{note ? 'Private note' : k === 'text' ? 'Reply' : 'Message text'}</label>
          {suggestions.length > 0 && (
            <ul class="suggestions" role="listbox" id="canned-list" aria-label="Canned responses">
              {suggestions.map((c, i) => (
                <li key={c.shortcode} role="option" aria-selected={i === picked.value} data-shortcode={c.shortcode} onMouseDown={(e) => { e.preventDefault(); insert(c); }}>
                  <strong>/{c.shortcode}</strong> {c.title} <span class="state">{c.text.slice(0, 60)}</span>
                </li>
              ))}
            </ul>
          )}
          <textarea
            id="compose-text"
            rows={2}
            placeholder={note ? 'Private note: only agents see it; @username notifies them' : k === 'text' ? 'Write a reply — / for canned responses; Enter sends, Shift+Enter adds a line' : 'Message text'}
            value={text.value}
            aria-controls={suggestions.length ? 'canned-list' : undefined}
            onInput={(e) => {
              text.value = e.currentTarget.value;
              picked.value = 0;
              if (!note && text.value.trim()) agentTyping(chat.chat_id);
            }}
            onKeyDown={(e) => {
              if (suggestions.length > 0 && (e.key === 'ArrowDown' || e.key === 'ArrowUp') && !e.altKey) {
                e.preventDefault();
                picked.value = (picked.value + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length;
                return;
              }
              if (suggestions.length > 0 && (e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey) {
                e.preventDefault();
                insert(suggestions[Math.min(picked.value, suggestions.length - 1)]!);
                return;
              }
              if (k === 'text' && e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                sendText();
              }
            }}
          />
        </>
      )}
      {(k === 'image' || k === 'video' || k === 'audio' || k === 'document') && (
        <div class="fields">
          <label for="compose-link">Public https link to the {k}</label>
          <input id="compose-link" type="url" required placeholder="https://…" value={link.value} onInput={(e) => (link.value = e.currentTarget.value)} />
          {k !== 'audio' && (<><label for="compose-caption">Caption (optional)</label><input id="compose-caption" value={caption.value} onInput={(e) => (caption.value = e.currentTarget.value)} /></>)}
          {k === 'document' && (<><label for="compose-filename">File name (optional)</label><input id="compose-filename" value={filename.value} onInput={(e) => (filename.value = e.currentTarget.value)} /></>)}
        </div>
      )}
      {(k === 'buttons' || k === 'list') && (
        <div class="fields">
          <label for="compose-options">{k === 'buttons' ? 'Buttons, one per line (up to 3, 20 characters each)' : 'Rows, one per line: title | description (up to 10)'}</label>
          <textarea id="compose-options" rows={3} value={options.value} onInput={(e) => (options.value = e.currentTarget.value)} />
        </div>
      )}
      {(k === 'list' || k === 'cta_url') && (
        <div class="fields">
          <label for="compose-button">{k === 'list' ? 'Menu button text' : 'Button text'}</label>
          <input id="compose-button" value={button.value} onInput={(e) => (button.value = e.currentTarget.value)} />
        </div>
      )}
      {k === 'cta_url' && (
        <div class="fields">
          <label for="compose-url">Link the button opens</label>
          <input id="compose-url" type="url" required value={url.value} onInput={(e) => (url.value = e.currentTarget.value)} />
        </div>
      )}
      {k === 'contact_card' && <p class="hint">Sends the OneWay.Cab support contact card (care@oneway.cab).</p>}
      <div class="composer-row">
        <p role="status" class="state">{state.value}</p>
        <button type="submit" class="primary" disabled={sending.value}>{note ? 'Add note' : 'Send'}</button>
      </div>
    </form>
  );
}
