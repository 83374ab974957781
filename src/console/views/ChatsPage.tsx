import { useEffect } from 'preact/hooks';
import { chats, openChat, openChatId, openConversation } from '../lib/live.ts';
import { actionOf, composeMode, helpOpen, snoozeOpen } from '../lib/shortcuts.ts';
import { ChatList } from './ChatList.tsx';
import { Conversation, toggleResolved } from './Conversation.tsx';
import { HelpDialog } from './HelpDialog.tsx';

/** Opens the chat `step` rows away from the open one (the first row when none is open), and focuses its row. */
function move(step: number): void {
  const list = chats.value;
  if (list.length === 0) return;
  const at = list.findIndex((c) => c.chat_id === openChatId.value);
  const next = at < 0 ? 0 : Math.min(list.length - 1, Math.max(0, at + step));
  const chat = list[next]!;
  void openConversation(chat.chat_id);
  requestAnimationFrame(() => (document.querySelector(`.chat-list [data-chat="${CSS.escape(chat.chat_id)}"]`) as HTMLElement | null)?.scrollIntoView({ block: 'nearest' }));
}

export function ChatsPage() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('dialog[open]')) return; // a dialog has the keys (Esc closes it)
      const action = actionOf(e);
      if (!action) return;
      e.preventDefault();
      const chat = openChat.value;
      switch (action) {
        case 'next': return move(1);
        case 'previous': return move(-1);
        case 'help': helpOpen.value = true; return;
        case 'toggle-note': composeMode.value = composeMode.value === 'note' ? 'reply' : 'note'; document.getElementById('compose-text')?.focus(); return;
        case 'snooze': if (chat && chat.status !== 'resolved') snoozeOpen.value = true; return;
        case 'resolve': if (chat) void toggleResolved(chat).catch(() => undefined); return;
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  return (
    <div class="chats-page">
      <ChatList />
      {openChatId.value ? <Conversation key={openChatId.value} /> : <section class="conversation empty" aria-label="Conversation"><p>Choose a chat on the left. Press ? for keyboard shortcuts.</p></section>}
      {helpOpen.value && <HelpDialog />}
    </div>
  );
}
