import { z } from 'zod';
import { CHANNELS } from './channels.ts';

/**
 * Where each send type's messages go (spec FR-7 table, §7.1): the Pinbot URL
 * path, which origin it is on, which API key it uses, and the business number
 * it sends from. Data in one place, checked at start-up (`checkPinbotEndpoints`).
 * The origins and keys themselves come from configuration.
 */

/** `v1v2`: `PINBOT_ORIGIN`, shared by several numbers (the `wanumber` header says which); `v3`: `PINBOT_V3_ORIGIN`, one URL per number. */
export type OriginKind = 'v1v2' | 'v3';

export interface PinbotEndpoint {
  sendType: string;
  /** The sending WhatsApp business number, with country code. */
  businessNumber: string;
  origin: OriginKind;
  path: string;
  /** The shared key this route uses unless `WA_API_KEY_<SENDTYPE>` overrides it. */
  keyVar: 'WA_API_KEY_1' | 'WA_API_KEY_2';
}

const route = (sendType: string, businessNumber: string, origin: OriginKind, path: string): PinbotEndpoint =>
  Object.freeze({ sendType, businessNumber, origin, path, keyVar: origin === 'v3' ? 'WA_API_KEY_2' : 'WA_API_KEY_1' });

/** The FR-7 table. v3 ids are Pinbot's phone-number ids; the DCO/vendor/SRDP "new"/"alt" rows use the v3 key unless overridden. */
export const PINBOT_ENDPOINTS: readonly PinbotEndpoint[] = Object.freeze([
  route('discount', '919638120888', 'v1v2', '/v2/messages'),
  route('chat', '919099039188', 'v1v2', '/v2/messages'),
  route('customer_chat', '919638106888', 'v1v2', '/v2/messages'),
  route('srdp_chat', '919586924247', 'v1v2', '/v2/messages'),
  route('vendor_chat', '919726724247', 'v3', '/v3/723917954136046/messages'),
  route('customer_chat_new', '919638106888', 'v3', '/v3/687960561072454/messages'),
  route('dco_new', '918690247247', 'v3', '/v3/807735062422776/messages'),
  route('vendor_alt', '919726524247', 'v3', '/v3/848476011681897/messages'),
  route('srdp_alt', '919081812247', 'v3', '/v3/827966120400721/messages'),
]);

/** The media download path (CONTRACT.md): on `PINBOT_ORIGIN`, with `apikey` and `wanumber`. */
export const mediaDownloadPath = (mediaId: string): string => `/v1/downloadmedia/${encodeURIComponent(mediaId)}`;

/** The per-channel key override variable of a send type, e.g. `WA_API_KEY_VENDOR_ALT`. */
export const overrideVar = (sendType: string): string => `WA_API_KEY_${sendType.toUpperCase()}`;

const routeSchema = z
  .strictObject({
    sendType: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
    businessNumber: z.string().regex(/^91\d{10}$/, 'a business number with country code 91'),
    origin: z.enum(['v1v2', 'v3']),
    path: z.string(),
    keyVar: z.enum(['WA_API_KEY_1', 'WA_API_KEY_2']),
  })
  .superRefine((r, ctx) => {
    const ok = r.origin === 'v3' ? /^\/v3\/\d{6,20}\/messages$/.test(r.path) : r.path === '/v2/messages';
    if (!ok) ctx.addIssue({ code: 'custom', path: ['path'], message: `${r.path} is not a ${r.origin} messages path` });
  });

/** Validates a routing table: each row well formed, send types unique, every webhook channel's send type routed. Throws naming the row. */
export function checkPinbotEndpoints(routes: readonly PinbotEndpoint[] = PINBOT_ENDPOINTS, channelSendTypes: readonly string[] = CHANNELS.map((c) => c.sendType)): void {
  const parsed = z.array(routeSchema).safeParse(routes);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const row = typeof i.path[0] === 'number' ? routes[i.path[0]]?.sendType : undefined;
    throw new Error(`Pinbot routing table: ${row ?? 'row'} ${i.path.slice(1).join('.')}: ${i.message}`);
  }
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.sendType)) throw new Error(`Pinbot routing table: send type ${r.sendType} appears twice`);
    seen.add(r.sendType);
  }
  for (const t of channelSendTypes) if (!seen.has(t)) throw new Error(`Pinbot routing table: no route for the channel send type ${t}`);
}

/** What the outbound client needs for one send type: the full URL parts and, when configured, the key. */
export interface ResolvedEndpoint extends PinbotEndpoint {
  /** The configured origin, e.g. `https://partners.pinbot.ai`. */
  originUrl: string;
  /** `originUrl` + `path`. */
  url: string;
  /** Unset: this channel is dry-run. */
  apiKey: string | undefined;
  /** The `wanumber` header (v1/v2 URLs only). */
  wanumber: string | undefined;
}

export interface PinbotSettings {
  origins: { v1v2: string; v3: string };
  keys: { WA_API_KEY_1?: string | undefined; WA_API_KEY_2?: string | undefined };
  /** Per-send-type keys (`WA_API_KEY_<SENDTYPE>`), taking precedence over the shared ones. */
  overrides?: Readonly<Record<string, string | undefined>>;
}

/** Resolves send types against configuration. */
export class PinbotEndpoints {
  private readonly bySendType = new Map<string, PinbotEndpoint>();

  constructor(
    private readonly settings: PinbotSettings,
    routes: readonly PinbotEndpoint[] = PINBOT_ENDPOINTS,
  ) {
    checkPinbotEndpoints(routes);
    for (const r of routes) this.bySendType.set(r.sendType, r);
  }

  /** The route of `sendType`; throws for a send type the table does not have. */
  resolve(sendType: string): ResolvedEndpoint {
    const r = this.bySendType.get(sendType);
    if (!r) throw new Error(`no Pinbot route for send type "${sendType}"`);
    const originUrl = this.settings.origins[r.origin];
    return {
      ...r,
      originUrl,
      url: originUrl + r.path,
      apiKey: this.settings.overrides?.[r.sendType] ?? this.settings.keys[r.keyVar],
      wanumber: r.origin === 'v1v2' ? r.businessNumber : undefined,
    };
  }

  /** Media download for a send type's number: always on the v1/v2 origin (`/v1/downloadmedia`), with that number's key and `wanumber`. */
  resolveMedia(sendType: string): ResolvedEndpoint {
    const r = this.resolve(sendType);
    const originUrl = this.settings.origins.v1v2;
    return { ...r, originUrl, url: originUrl + r.path, wanumber: r.businessNumber };
  }

  has(sendType: string): boolean {
    return this.bySendType.has(sendType);
  }

  get sendTypes(): string[] {
    return [...this.bySendType.keys()];
  }
}
