import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { timeOf } from '../lib/format.ts';
import { deliveryOf } from '../lib/live.ts';
import { mediaSrc } from '../lib/media.ts';
import type { Message } from '../lib/types.ts';

const TICKS: Record<string, { mark: string; label: string }> = {
  pending: { mark: '🕓', label: 'Sending' },
  dry_run: { mark: '✓', label: 'Recorded (dry run: not sent to WhatsApp)' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
  failed: { mark: '⚠', label: 'Failed' },
  uncertain: { mark: '?', label: 'Uncertain: may not have been sent' },
};

function Media({ m }: { m: Message }) {
  const url = useSignal<string | null>(null);
  const failed = useSignal('');
  const kind = m.media?.type ?? m.media_type ?? m.message_type;
  useEffect(() => {
    if (!m.mediaUrl) return;
    mediaSrc(m.mediaUrl).then((u) => (url.value = u), (e: Error) => (failed.value = e.message));
  }, [m.mediaUrl]);
  const caption = m.media?.caption;
  const name = m.media?.filename ?? `${kind} file`;
  if (m.media_status === 'failed' || failed.value) return <p class="media-note">The {kind} could not be downloaded{failed.value ? `: ${failed.value}` : ''}.</p>;
  if (!m.mediaUrl || !url.value) return <p class="media-note">{m.mediaUrl ? 'Loading' : 'Downloading'} {kind}…</p>;
  return (
    <figure class="media">
      {kind === 'image' || kind === 'sticker' ? <img src={url.value} alt={caption || `${kind === 'sticker' ? 'Sticker' : 'Image'} from the customer`} />
      : kind === 'video' ? <video src={url.value} controls aria-label={caption || 'Video from the customer'} />
      : kind === 'audio' ? <audio src={url.value} controls aria-label={caption || 'Voice or audio message'} />
      : <a href={url.value} download={name}>Download {name}</a>}
      {caption && <figcaption>{caption}</figcaption>}
    </figure>
  );
}

function Contacts({ cards }: { cards: any[] }) {
  return (
    <ul class="contacts" aria-label="Shared contacts">
      {cards.map((c, i) => (
        <li key={i}>
          <strong>{c?.name?.formatted_name ?? c?.name?.first_name ?? 'Contact'}</strong>
          {(c?.phones ?? []).map((p: any, j: number) => <span key={j}> · {p?.phone ?? p?.wa_id}</span>)}
          {(c?.emails ?? []).map((p: any, j: number) => <span key={`e${j}`}> · {p?.email}</span>)}
        </li>
      ))}
    </ul>
  );
}

/** What an outbound interactive/contact/media message (built by the server) says. */
function Outbound({ cloud }: { cloud: any }) {
  const i = cloud?.interactive;
  if (cloud?.type === 'interactive' && i) {
    const options: string[] = i.type === 'button' ? (i.action?.buttons ?? []).map((b: any) => b?.reply?.title) : i.type === 'list' ? (i.action?.sections ?? []).flatMap((s: any) => (s?.rows ?? []).map((r: any) => r?.title)) : [i.action?.parameters?.display_text + ' → ' + i.action?.parameters?.url];
    return (
      <div>
        <p>{i.body?.text}</p>
        <ul class="options" aria-label={i.type === 'list' ? `List options (${i.action?.button})` : 'Buttons'}>{options.map((o, k) => <li key={k}>{o}</li>)}</ul>
      </div>
    );
  }
  if (cloud?.type === 'contacts') return <Contacts cards={cloud.contacts ?? []} />;
  const media = cloud?.[cloud?.type];
  if (media?.link) return <p>{cloud.type}: <a href={media.link} target="_blank" rel="noopener noreferrer">{media.filename ?? media.link}</a>{media.caption ? ` — ${media.caption}` : ''}</p>;
  return null;
}

function Body({ m, byWaId }: { m: Message; byWaId: (id: string) => Message | undefined }) {
  const x = m.extra ?? {};
  switch (m.message_type) {
    case 'image': case 'video': case 'audio': case 'document': case 'sticker':
      return m.type === 'Customer' ? <Media m={m} /> : x.cloud ? <Outbound cloud={x.cloud} /> : <p>{m.message}</p>;
    case 'location': {
      const l = x.location ?? {};
      const href = `https://www.openstreetmap.org/?mlat=${l.latitude}&mlon=${l.longitude}#map=16/${l.latitude}/${l.longitude}`;
      return <p>📍 <a href={href} target="_blank" rel="noopener noreferrer">{[l.name, l.address].filter(Boolean).join(', ') || 'Shared location'} ({l.latitude}, {l.longitude}) — open map</a></p>;
    }
    case 'contacts':
      return x.cloud ? <Outbound cloud={x.cloud} /> : <Contacts cards={x.contacts ?? []} />;
    case 'button':
      return <p><span class="tag">Button reply</span> {m.message}</p>;
    case 'interactive':
      if (x.cloud) return <Outbound cloud={x.cloud} />;
      return <p><span class="tag">{x.interactiveType === 'list_reply' ? 'List choice' : 'Button reply'}</span> {m.message}</p>;
    case 'reaction': {
      const target = x.reaction?.messageId ? byWaId(x.reaction.messageId) : undefined;
      return <p>{x.reaction?.emoji ? `Reacted ${x.reaction.emoji}` : 'Removed a reaction'}{target ? ` to “${target.message.slice(0, 60)}”` : ''}</p>;
    }
    case 'template':
      return <p><span class="tag">Template</span> {m.message}</p>;
    case 'unsupported':
      return <p class="media-note">A message type WhatsApp does not pass on (unsupported).</p>;
    default:
      return <p>{m.message}</p>;
  }
}

export function MessageView({ m, byWaId }: { m: Message; byWaId: (id: string) => Message | undefined }) {
  const mine = m.type !== 'Customer';
  const note = m.private === true || m.message_type === 'note';
  const status = mine && !note ? deliveryOf(m) : '';
  const tick = TICKS[status];
  return (
    <li class={`msg ${mine ? 'out' : 'in'}${note ? ' note' : ''}`} data-id={m._id} data-type={m.message_type}>
      <div class="bubble">
        {note && <span class="by">Private note by {m.sender} <span class="visually-hidden">(agents only, not sent to the customer)</span></span>}
        {mine && !note && <span class="by">{m.sender === 'csat' ? 'Rating question' : m.type === 'Agent' ? m.sender : m.type}</span>}
        <Body m={m} byWaId={byWaId} />
        <span class="foot">
          <time dateTime={m.datetime ?? undefined}>{timeOf(m.datetime)}</time>
          {tick && <span class={`ticks ${status}`} data-status={status} title={tick.label}>{tick.mark}<span class="visually-hidden"> {tick.label}</span></span>}
        </span>
        {status === 'failed' && m.outbound_error?.message && <span class="error">{m.outbound_error.message}</span>}
      </div>
    </li>
  );
}
