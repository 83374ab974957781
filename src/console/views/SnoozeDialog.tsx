import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { snoozeChat } from '../lib/inbox.ts';
import type { Chat } from '../lib/types.ts';

type Choice = '1h' | '4h' | 'tomorrow' | 'at' | 'reply';

/** `YYYY-MM-DDTHH:MM:SS` in local time, what a datetime-local input takes. */
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function until(choice: Choice, at: string): Date | undefined {
  const now = new Date();
  if (choice === '1h') return new Date(now.getTime() + 3_600_000);
  if (choice === '4h') return new Date(now.getTime() + 4 * 3_600_000);
  if (choice === 'tomorrow') return new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0, 0);
  if (choice === 'at') return new Date(at);
  return undefined;
}

/** Snooze the chat until a time, or until the customer writes (whichever the server sees first wakes it). */
export function SnoozeDialog({ chat, onDone }: { chat: Chat; onDone: (error?: string) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const choice = useSignal<Choice>('1h');
  const at = useSignal(localInput(new Date(Date.now() + 30 * 60_000)));
  const busy = useSignal(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    busy.value = true;
    try {
      await snoozeChat(chat.chat_id, until(choice.value, at.value));
      onDone();
    } catch (err) {
      onDone((err as Error).message);
    }
  };
  const option = (value: Choice, label: string) => (
    <label class="choice">
      <input type="radio" name="snooze" value={value} checked={choice.value === value} onChange={() => (choice.value = value)} /> {label}
    </label>
  );
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="snooze-title" onClose={() => onDone()}>
      <form method="dialog" onSubmit={submit}>
        <h2 id="snooze-title">Snooze this chat</h2>
        <p class="state">It comes back to Active at that time, or as soon as the customer writes.</p>
        <fieldset>
          <legend class="visually-hidden">Until</legend>
          {option('1h', 'For 1 hour')}
          {option('4h', 'For 4 hours')}
          {option('tomorrow', 'Until tomorrow 09:00')}
          {option('at', 'Until…')}
          {choice.value === 'at' && (
            <label class="at">
              <span>Date and time</span>
              <input type="datetime-local" step={1} required value={at.value} onInput={(e) => (at.value = e.currentTarget.value)} />
            </label>
          )}
          {option('reply', 'Until the customer replies')}
        </fieldset>
        <div class="composer-row">
          <button type="button" onClick={() => ref.current?.close()}>Cancel</button>
          <button type="submit" class="primary" disabled={busy.value}>Snooze</button>
        </div>
      </form>
    </dialog>
  );
}
