import { openChatId } from '../lib/live.ts';
import { ChatList } from './ChatList.tsx';
import { Conversation } from './Conversation.tsx';

export function ChatsPage() {
  return (
    <div class="chats-page">
      <ChatList />
      {openChatId.value ? <Conversation key={openChatId.value} /> : <section class="conversation empty" aria-label="Conversation"><p>Choose a chat on the left.</p></section>}
    </div>
  );
}
