import { useSignal } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { labelCatalogue } from '../lib/desk.ts';
import { chatTitle, timeOf } from '../lib/format.ts';
import { addLabel, agents, assignChat, loadAgents, removeLabel, setChatStatus, typing } from '../lib/inbox.ts';
import { closeConversation, conversationError, historyLoading, loadOlder, messages, olderLeft, openChat, socket, viewers } from '../lib/live.ts';
import { session } from '../lib/session.ts';
import { snoozeOpen } from '../lib/shortcuts.ts';
import type { Chat } from '../lib/types.ts';
import { Composer } from './Composer.tsx';
import { LabelChip } from './LabelChip.tsx';
import { MessageView } from './MessageView.tsx';
import { SnoozeDialog } from './SnoozeDialog.tsx';

const STATUS_TEXT: Record<string, string> = { active: 'Active', pending: 'Pending (waiting for the customer)', snoozed: 'Snoozed', resolved: 'Resolved', bot: 'With the discount bot' };
const RATING = { 3: 'Good', 2: 'Okay', 1: 'Poor' } as const;

/** Resolve or reopen the open chat (the Resolve button and Alt+R). */
export async function toggleResolved(chat: Chat): Promise<Chat> {
  const status = chat.status === 'resolved' ? 'active' : 'resolved';
  const r = await socket!.request<{ chat: Chat }>('update_chat_status', { customer_number: chat.customer, status });
  openChat.value = { ...openChat.value, ...r.chat };
  return r.chat;
}

function Csat({ chat }: { chat: Chat }) {
  const c = chat.csat;
  if (!c) return null;
  const text = c.status === 'rated' && c.score ? `Rated ${RATING[c.score]} (${c.score}/3)` : c.status === 'asked' ? 'Rating asked, awaiting the answer' : 'Rating not answered';
  return <span class={`csat ${c.status}`} data-csat={c.status} data-score={c.score ?? ''}> · CSAT: {text}</span>;
}

function Assignee({ chat }: { chat: Chat }) {
  const error = useSignal('');
  const me = session.value?.agent.username;
  const names = new Set(agents.value.map((a) => a.username));
  if (chat.assignee) names.add(chat.assignee);
  if (me) names.add(me);
  const status = new Map(agents.value.map((a) => [a.username, a.status]));
  return (
    <label class="assign">
      <span>Assignee</span>
      <select
        data-assign
        value={chat.assignee ?? ''}
        onFocus={() => void loadAgents()}
        onChange={(e) => {
          const v = e.currentTarget.value;
          void assignChat(chat.chat_id, v || null).then(() => (error.value = ''), (err: Error) => (error.value = err.message));
        }}
      >
        <option value="">Unassigned</option>
        {[...names].sort().map((n) => <option key={n} value={n}>{n === me ? `${n} (you)` : n}{status.get(n) ? ` — ${status.get(n)}` : ''}</option>)}
      </select>
      {error.value && <span class="error" role="alert">{error.value}</span>}
    </label>
  );
}

function Labels({ chat }: { chat: Chat }) {
  const have = chat.labels ?? [];
  const free = labelCatalogue.value.filter((l) => !have.includes(l.name));
  const error = useSignal('');
  const run = (p: Promise<unknown>) => void p.then(() => (error.value = ''), (err: Error) => (error.value = err.message));
  return (
    <div class="labels" role="group" aria-label="Labels">
      {have.map((l) => <LabelChip key={l} name={l} onRemove={() => run(removeLabel(chat.chat_id, l))} />)}
      {free.length > 0 && (
        <label>
          <span class="visually-hidden">Add a label</span>
          <select data-add-label value="" onChange={(e) => { const v = e.currentTarget.value; if (v) run(addLabel(chat.chat_id, v)); }}>
            <option value="">+ Label</option>
            {free.map((l) => <option key={l.name} value={l.name}>{l.name}</option>)}
          </select>
        </label>
      )}
      {error.value && <span class="error" role="alert">{error.value}</span>}
    </div>
  );
}

export function Conversation() {
  const chat = openChat.value;
  const list = useRef<HTMLDivElement>(null);
  const shape = useRef({ first: '', last: '', height: 0, top: 0, atBottom: true });
  const busy = useSignal(false);
  const statusError = useSignal('');

  // Newest at the bottom: stay there as messages arrive; keep the view still when older ones are added above.
  useLayoutEffect(() => {
    const el = list.current;
    const ms = messages.value;
    if (!el || ms.length === 0) return;
    const s = shape.current;
    const first = ms[0]!._id;
    const last = ms[ms.length - 1]!._id;
    if (s.first && first !== s.first && last === s.last) el.scrollTop = s.top + (el.scrollHeight - s.height);
    else if (s.atBottom || !s.last) el.scrollTop = el.scrollHeight;
    shape.current = { first, last, height: el.scrollHeight, top: el.scrollTop, atBottom: el.scrollTop + el.clientHeight >= el.scrollHeight - 40 };
  }, [messages.value]);

  const onScroll = () => {
    const el = list.current!;
    shape.current = { ...shape.current, height: el.scrollHeight, top: el.scrollTop, atBottom: el.scrollTop + el.clientHeight >= el.scrollHeight - 40 };
    if (el.scrollTop < 120 && olderLeft.value && !historyLoading.value) void loadOlder();
  };

  const act = async (what: () => Promise<unknown>) => {
    busy.value = true;
    statusError.value = '';
    try {
      await what();
    } catch (err) {
      statusError.value = (err as Error).message;
    } finally {
      busy.value = false;
    }
  };

  const byWa = new Map(messages.value.filter((m) => m.wa_message_id).map((m) => [m.wa_message_id!, m]));
  const typers = typing.value.map((t) => t.agent);
  return (
    <section class="conversation" aria-labelledby="conv-title">
      <header class="conv-head">
        <button type="button" class="back" onClick={closeConversation} aria-label="Close conversation">←</button>
        <div>
          <h2 id="conv-title">{chat ? chatTitle(chat) : 'Loading…'}</h2>
          <p class="meta">
            {chat?.customer_type} · <span data-conv-status={chat?.status}>{STATUS_TEXT[chat?.status ?? 'active'] ?? chat?.status}</span>
            {chat?.status === 'snoozed' && <span data-snoozed-until={chat.snoozed_until ?? ''}>{chat.snoozed_until ? ` until ${timeOf(chat.snoozed_until)}` : ' until the customer writes'}</span>}
            {chat?.team && <span> · Team {chat.team}</span>}
            {chat && <Csat chat={chat} />}
            {viewers.value.length > 0 && <span class="viewers" data-viewers={viewers.value.join(',')}> · Also viewing: {viewers.value.join(', ')}</span>}
          </p>
        </div>
        {chat && <Assignee chat={chat} />}
        {chat && chat.status !== 'resolved' && chat.status !== 'pending' && (
          <button type="button" disabled={busy.value} onClick={() => void act(() => setChatStatus(chat.chat_id, 'pending'))}>Mark pending</button>
        )}
        {chat && chat.status !== 'resolved' && <button type="button" disabled={busy.value} aria-keyshortcuts="Alt+S" onClick={() => (snoozeOpen.value = true)}>Snooze…</button>}
        {chat && (chat.status === 'resolved'
          ? <button type="button" disabled={busy.value} aria-keyshortcuts="Alt+R" onClick={() => void act(() => toggleResolved(chat))}>Reopen</button>
          : <button type="button" class="primary" disabled={busy.value} aria-keyshortcuts="Alt+R" onClick={() => void act(() => toggleResolved(chat))}>Resolve</button>)}
      </header>
      {chat && <Labels chat={chat} />}
      {statusError.value && <p class="error" role="alert">{statusError.value}</p>}
      {conversationError.value && <p class="error" role="alert">{conversationError.value}</p>}
      <div class="messages" ref={list} onScroll={onScroll} tabIndex={0} aria-label="Messages, newest at the bottom">
        {olderLeft.value && (
          <button type="button" class="older" disabled={historyLoading.value} onClick={() => void loadOlder()}>{historyLoading.value ? 'Loading…' : 'Load older messages'}</button>
        )}
        <ol aria-live="polite" aria-relevant="additions">
          {messages.value.map((m) => <MessageView key={m._id} m={m} byWaId={(id) => byWa.get(id)} />)}
        </ol>
      </div>
      <p class="typing" aria-live="polite" data-typing={typers.join(',')}>{typers.length ? `${typers.join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…` : ''}</p>
      {chat && <Composer chat={chat} />}
      {chat && snoozeOpen.value && <SnoozeDialog chat={chat} onDone={(err) => { snoozeOpen.value = false; statusError.value = err ?? ''; }} />}
    </section>
  );
}
