import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { chatTitle, timeOf } from '../lib/format.ts';
import { labelCatalogue } from '../lib/desk.ts';
import { counts, refreshCounts } from '../lib/inbox.ts';
import { channelsByType, chats, chatTotal, CUSTOMER_TYPES, filters, listError, listLoading, loadMoreChats, openChatId, openConversation, reloadList, socket, SPECIAL_FILTERS, type ListFilters } from '../lib/live.ts';
import { session } from '../lib/session.ts';
import { LabelChip } from './LabelChip.tsx';

/** Rows are this tall, so only the visible ones (plus a margin) are in the DOM however many are loaded. */
const ROW_H = 68;
const OVERSCAN = 6;

const FILTER_LABELS: Record<(typeof SPECIAL_FILTERS)[number], string> = {
  Active_Approved: 'Active and approved',
  Pending: 'Documents pending',
  InJourney: 'In a journey',
  Suspend: 'Suspended',
  Discount_Bot: 'Discount bot chats',
};

const TABS: { status: ListFilters['status']; label: string }[] = [
  { status: 'active', label: 'Active' },
  { status: 'pending', label: 'Pending' },
  { status: 'snoozed', label: 'Snoozed' },
  { status: 'resolved', label: 'Resolved' },
  { status: '', label: 'All' },
];

const VIEWS: { view: ListFilters['view']; label: string }[] = [
  { view: 'mine', label: 'Mine' },
  { view: 'unassigned', label: 'Unassigned' },
  { view: 'all', label: 'All' },
];

const STATUS_NOTE: Partial<Record<string, string>> = { resolved: ' · resolved', bot: ' · with the discount bot', pending: ' · pending', snoozed: ' · snoozed' };

export function ChatList() {
  const scroller = useRef<HTMLDivElement>(null);
  const scrollTop = useSignal(0);
  const height = useSignal(600);
  const search = useSignal(filters.value.search);

  const setFilters = (patch: Partial<ListFilters>) => {
    filters.value = { ...filters.value, ...patch };
    if (scroller.current) scroller.current.scrollTop = 0;
    scrollTop.value = 0;
    if (socket?.state.value === 'open') {
      void reloadList();
      refreshCounts();
    }
  };

  // Search as the agent types, a moment after they stop.
  useEffect(() => {
    if (search.value === filters.value.search) return;
    const t = setTimeout(() => setFilters({ search: search.value }), 250);
    return () => clearTimeout(t);
  }, [search.value]);

  useEffect(() => {
    const el = scroller.current!;
    const measure = () => (height.value = el.clientHeight || 600);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const list = chats.value;
  const first = Math.max(0, Math.floor(scrollTop.value / ROW_H) - OVERSCAN);
  const last = Math.min(list.length, Math.ceil((scrollTop.value + height.value) / ROW_H) + OVERSCAN);
  const onScroll = () => {
    const el = scroller.current!;
    scrollTop.value = el.scrollTop;
    if (el.scrollTop + el.clientHeight > list.length * ROW_H - 10 * ROW_H) void loadMoreChats();
  };

  // Up/Down move between rows (the visible window follows); Home/End jump.
  const onKey = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement;
    const index = Number(target.dataset.index);
    if (!Number.isInteger(index)) return;
    const next = e.key === 'ArrowDown' ? index + 1 : e.key === 'ArrowUp' ? index - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? list.length - 1 : -1;
    if (next < 0 || next >= list.length || next === index) return;
    e.preventDefault();
    const el = scroller.current!;
    if (next * ROW_H < el.scrollTop) el.scrollTop = next * ROW_H;
    else if ((next + 1) * ROW_H > el.scrollTop + el.clientHeight) el.scrollTop = (next + 1) * ROW_H - el.clientHeight;
    scrollTop.value = el.scrollTop;
    // Rows next to the focused one are already rendered (overscan): focus at once, so key repeat never reads a stale row.
    const row = () => el.querySelector(`[data-index="${next}"]`) as HTMLElement | null;
    const now = row();
    if (now) now.focus();
    else requestAnimationFrame(() => row()?.focus());
  };

  const f = filters.value;
  return (
    <section class="chat-list" aria-label="Chats">
      <div class="tabs views" role="tablist" aria-label="Whose chats">
        {VIEWS.map((v) => (
          <button key={v.view} type="button" role="tab" data-view={v.view} aria-selected={f.view === v.view} onClick={() => setFilters({ view: v.view })}>
            {v.label} <span class="n" data-count={v.view}>{counts.value ? counts.value[v.view] : '…'}</span>
          </button>
        ))}
      </div>
      <div class="tabs" role="tablist" aria-label="Chat status">
        {TABS.map((t) => (
          <button key={t.label} type="button" role="tab" aria-selected={f.status === t.status} onClick={() => setFilters({ status: t.status })}>{t.label}</button>
        ))}
      </div>
      <div class="filters">
        <label class="search">
          <span class="visually-hidden">Search by number or name</span>
          <input type="search" placeholder="Search number or name" value={search.value} onInput={(e) => (search.value = e.currentTarget.value)} />
        </label>
        <label>
          <span class="visually-hidden">Customer type and channel</span>
          <select value={f.customer_type} onChange={(e) => setFilters({ customer_type: e.currentTarget.value as ListFilters['customer_type'] })}>
            <option value="">All customer types</option>
            {CUSTOMER_TYPES.map((t) => <option key={t} value={t}>{t}{channelsByType.value[t] ? ` — ${channelsByType.value[t]!.join(', ')}` : ''}</option>)}
          </select>
        </label>
        <label>
          <span class="visually-hidden">Label</span>
          <select value={f.label} onChange={(e) => setFilters({ label: e.currentTarget.value })}>
            <option value="">All labels</option>
            {labelCatalogue.value.map((l) => <option key={l.name} value={l.name}>{l.name}</option>)}
          </select>
        </label>
        <label>
          <span class="visually-hidden">Profile filter</span>
          <select value={f.special} onChange={(e) => setFilters({ special: e.currentTarget.value as ListFilters['special'] })}>
            <option value="">All profiles</option>
            {SPECIAL_FILTERS.map((s) => <option key={s} value={s}>{FILTER_LABELS[s]}</option>)}
          </select>
        </label>
      </div>
      <p class="count" aria-live="polite">{listLoading.value && list.length === 0 ? 'Loading…' : `${chatTotal.value} chat${chatTotal.value === 1 ? '' : 's'}`}</p>
      {listError.value && <p class="error" role="alert">{listError.value}</p>}
      <div class="rows" ref={scroller} onScroll={onScroll} onKeyDown={onKey}>
        <ul style={{ height: `${list.length * ROW_H}px` }} aria-label="Chats, newest activity first">
          {list.slice(first, last).map((c, k) => {
            const i = first + k;
            const unseen = c.unseen_count ?? 0;
            const open = openChatId.value === c.chat_id;
            return (
              <li key={c.chat_id} style={{ top: `${i * ROW_H}px` }} aria-setsize={chatTotal.value} aria-posinset={i + 1}>
                <button type="button" class={`row${open ? ' open' : ''}`} data-index={i} data-chat={c.chat_id} aria-current={open ? 'true' : undefined} onClick={() => void openConversation(c.chat_id)}>
                  <span class="name">{chatTitle(c)}</span>
                  <span class="time">{timeOf(c.last_message_time)}</span>
                  <span class="last">{c.last_message ?? ''}</span>
                  <span class="meta">
                    {c.customer_type}{STATUS_NOTE[c.status] ?? ''}
                    <span class="assignee" data-assignee={c.assignee ?? ''}>{c.assignee ? ` · ${c.assignee === session.value?.agent.username ? 'you' : c.assignee}` : ' · unassigned'}</span>
                    {(c.labels ?? []).slice(0, 3).map((l) => <LabelChip key={l} name={l} small />)}
                  </span>
                  {unseen > 0 && <span class="badge" data-unseen={unseen}>{unseen}<span class="visually-hidden"> unread</span></span>}
                </button>
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}
