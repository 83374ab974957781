import { z } from 'zod';
import type { DiscountEvent, DiscountReason, DiscountRoute } from '../machines/discount.machine.ts';

/** One row of the `discount_code_template` collection (spec §5.6), seeded from `data/discount-routes.seed.json`. */
export const routeTemplateSchema = z.object({
  _id: z.string().min(1),
  route: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  price: z.number().int().positive(),
  code: z.string().min(1).max(40),
  sample_code: z.boolean().default(false),
  enabled: z.boolean().default(true),
  valid_from: z.coerce.date(),
  valid_until: z.coerce.date(),
  header: z.string().max(60),
  body: z.string().max(1024),
  footer: z.string().max(60),
});
export type RouteTemplate = z.infer<typeof routeTemplateSchema>;

export const REASONS: Record<DiscountReason, string> = { bad_service: 'Bad Service', prices_high: 'Prices are High', other: 'Other Reason' };

/** What a classifier needs to know about one inbound message on the discount channel. */
export interface DiscountInbound {
  id: string;
  at: number;
  kind: string;
  text: string;
  buttonPayload?: string;
  interactiveReplyId?: string;
}

/** Lower case, currency marks and punctuation gone, spaces folded: "Need Discount Code - Pune to Mumbai Airport @ ₹2,199" → "need discount code pune to mumbai airport @ 2199". */
export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/₹|\brs\.?|\binr\b|\/-/g, ' ')
    .replace(/(\d),(\d)/g, '$1$2')
    .replace(/@/g, ' @ ')
    .replace(/[^a-z0-9@\u0900-\u097f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The catalogue route a text asks for: the longest "<from> to <to>" phrase it contains, whole words only. */
export function matchRoute(text: string, routes: readonly RouteTemplate[]): RouteTemplate | null {
  const t = ` ${normalize(text)} `;
  let best: RouteTemplate | null = null;
  let bestLength = 0;
  for (const r of routes) {
    const phrase = normalize(`${r.from} to ${r.to}`);
    if (phrase.length > bestLength && t.includes(` ${phrase} `)) {
      best = r;
      bestLength = phrase.length;
    }
  }
  return best;
}

/** The machine's view of a route at time `at`: available only when enabled and inside its validity dates. */
export function toDiscountRoute(r: RouteTemplate, at: number): DiscountRoute {
  return { id: r._id, name: r.route, price: r.price, code: r.code, available: r.enabled && r.valid_from.getTime() <= at && at <= r.valid_until.getTime() };
}

const ACCEPT = /\byes\b.*\bsend\b.*\bdiscount\b|^(yes_send|send_code|send_discount)/;
const DECLINE = /\b(don ?t|do not) need (a |any )?discount\b|^(no_discount|decline|not_interested)/;
const NON_TEXT = new Set(['image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'unsupported']);

/**
 * Turns a message on the discount channel into the machine's event. Returns
 * null for what the conversation ignores (a reaction).
 */
export function classify(m: DiscountInbound, routes: readonly RouteTemplate[], campaignRouteId: string): DiscountEvent | null {
  const base = { id: m.id, at: m.at };
  if (m.kind === 'reaction') return null;
  if (NON_TEXT.has(m.kind)) return { ...base, type: 'KEYWORD', key: 'textMsg' };

  const reply = m.interactiveReplyId ?? '';
  if (reply in REASONS) return { ...base, type: 'REASON_GIVEN', reason: reply as DiscountReason, text: reply };

  const said = normalize([m.text, m.buttonPayload ?? '', reply].join(' '));
  const keyed = normalize(m.buttonPayload ?? reply).replace(/ /g, '_');
  if (ACCEPT.test(said) || ACCEPT.test(keyed)) {
    const named = matchRoute(`${m.buttonPayload ?? ''} ${reply}`.replace(/[_:-]/g, ' '), routes) ?? routes.find((r) => keyed.includes(r._id.replace(/-/g, '_'))) ?? null;
    const campaign = routes.find((r) => r._id === campaignRouteId) ?? null;
    return { ...base, type: 'ACCEPTED', route: named && toDiscountRoute(named, m.at), campaignRoute: campaign && toDiscountRoute(campaign, m.at) };
  }
  if (DECLINE.test(said) || DECLINE.test(keyed)) return { ...base, type: 'DECLINED' };

  const route = matchRoute(m.text, routes);
  if (route) return { ...base, type: 'ROUTE_REQUESTED', route: toDiscountRoute(route, m.at) };
  if (/\b(job|jobs|career|careers|hiring|vacancy|vacancies)\b/.test(said)) return { ...base, type: 'KEYWORD', key: 'care_job' };
  if (/\bdiya\b/.test(said)) return { ...base, type: 'KEYWORD', key: 'unlock_diya' };
  return { ...base, type: 'UNRECOGNISED', text: m.text };
}
