import { useSignal } from '@preact/signals';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { chatTitle } from '../lib/format.ts';
import { closeConversation, conversationError, historyLoading, loadOlder, messages, olderLeft, openChat, socket, viewers } from '../lib/live.ts';
import { Composer } from './Composer.tsx';
import { MessageView } from './MessageView.tsx';

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

  const setStatus = async (status: 'active' | 'resolved') => {
    if (!chat) return;
    busy.value = true;
    statusError.value = '';
    try {
      const r = await socket!.request<{ chat: typeof chat }>('update_chat_status', { customer_number: chat.customer, status });
      openChat.value = { ...openChat.value, ...r.chat };
    } catch (err) {
      statusError.value = (err as Error).message;
    } finally {
      busy.value = false;
    }
  };

  const byWa = new Map(messages.value.filter((m) => m.wa_message_id).map((m) => [m.wa_message_id!, m]));
  return (
    <section class="conversation" aria-labelledby="conv-title">
      <header class="conv-head">
        <button type="button" class="back" onClick={closeConversation} aria-label="Close conversation">←</button>
        <div>
          <h2 id="conv-title">{chat ? chatTitle(chat) : 'Loading…'}</h2>
          <p class="meta">
            {chat?.customer_type} · <span data-conv-status={chat?.status}>{chat?.status === 'resolved' ? 'Resolved' : 'Active'}</span>
            {viewers.value.length > 0 && <span class="viewers" data-viewers={viewers.value.join(',')}> · Also viewing: {viewers.value.join(', ')}</span>}
          </p>
        </div>
        {chat && (chat.status === 'resolved'
          ? <button type="button" disabled={busy.value} onClick={() => void setStatus('active')}>Reopen</button>
          : <button type="button" class="primary" disabled={busy.value} onClick={() => void setStatus('resolved')}>Resolve</button>)}
      </header>
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
      {chat && <Composer chat={chat} />}
    </section>
  );
}
