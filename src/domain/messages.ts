import { z } from 'zod';

/**
 * Builders for the WhatsApp Cloud API message bodies of spec FR-7, as Pinbot
 * accepts them unchanged (CONTRACT.md "Outbound WhatsApp"). Each takes a
 * typed input, checks it against WhatsApp's limits with zod, and returns the
 * body without the envelope (`messaging_product`, `recipient_type`, `to`),
 * which the outbox adds. Lengths are counted in Unicode code points, not
 * UTF-16 units, so "₹", Hindi and emoji count as the characters they are.
 */

/** A Cloud API message body WITHOUT `messaging_product` / `recipient_type` / `to`. */
export type CloudMessage = Record<string, unknown>;

/** Input a builder refuses; surfaced to clients as VALIDATION_FAILED with this message (its publicCode). */
export class MessageBuildError extends Error {
  override readonly name = 'MessageBuildError';
  /** Escaping to a client (src/infra/errors.ts `toAppError`): VALIDATION_FAILED with this message, which names the field. */
  readonly publicCode = 'VALIDATION_FAILED';
  readonly publicMessage = true;
}

/** WhatsApp's limits (Cloud API reference, "Messages"), in characters. */
export const LIMITS = Object.freeze({
  textBody: 4096,
  interactiveBody: 1024,
  headerText: 60,
  footerText: 60,
  caption: 1024,
  buttonId: 256,
  buttonTitle: 20,
  maxButtons: 3,
  listButton: 20,
  listSections: 10,
  listRows: 10,
  sectionTitle: 24,
  rowId: 200,
  rowTitle: 24,
  rowDescription: 72,
  ctaDisplayText: 20,
  templateParam: 1024,
  filename: 240,
});

/** Characters as WhatsApp counts them: Unicode code points. */
export const charCount = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

// In a `u` regex a proper surrogate pair is one code point, so this only finds broken halves.
const LONE_SURROGATE = /\p{Cs}/u;

/** A non-blank, well-formed string of at most `max` characters. */
const text = (max: number) =>
  z.string().superRefine((v, ctx) => {
    if (LONE_SURROGATE.test(v)) ctx.addIssue({ code: 'custom', message: 'contains an unpaired surrogate (not valid Unicode)' });
    else if (v.trim() === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
    else if (charCount(v) > max) ctx.addIssue({ code: 'custom', message: `at most ${max} characters (got ${charCount(v)})` });
  });

const httpUrl = z.string().superRefine((v, ctx) => {
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) ctx.addIssue({ code: 'custom', message: 'expected an http(s) URL' });
});

const mediaRef = z.union([z.strictObject({ id: z.string().regex(/^[\w.-]{1,128}$/, 'a WhatsApp media id') }), z.strictObject({ link: httpUrl })]);
const layout = z.strictObject({ header: text(LIMITS.headerText).optional(), footer: text(LIMITS.footerText).optional() }).optional();

function parse<S extends z.ZodType>(what: string, schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const detail = r.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  throw new MessageBuildError(`${what}: ${detail}`);
}

function interactive(kind: string, body: string, opts: { header?: string | undefined; footer?: string | undefined } | undefined, action: Record<string, unknown>): CloudMessage {
  return {
    type: 'interactive',
    interactive: {
      type: kind,
      ...(opts?.header !== undefined ? { header: { type: 'text', text: opts.header } } : {}),
      body: { text: body },
      ...(opts?.footer !== undefined ? { footer: { text: opts.footer } } : {}),
      action,
    },
  };
}

const textInput = z.strictObject({
  body: text(LIMITS.textBody),
  opts: z.strictObject({ previewUrl: z.boolean().optional(), replyTo: z.string().min(1).max(256).optional() }).optional(),
});

/** A text message; `replyTo` quotes an earlier message (its WhatsApp id). */
export function textMessage(body: string, opts?: { previewUrl?: boolean; replyTo?: string }): CloudMessage {
  const v = parse('text message', textInput, { body, opts });
  return {
    ...(v.opts?.replyTo ? { context: { message_id: v.opts.replyTo } } : {}),
    type: 'text',
    text: { preview_url: v.opts?.previewUrl ?? false, body: v.body },
  };
}

const templateInput = z.strictObject({
  name: z.string().regex(/^[a-z0-9_]{1,512}$/, 'lower-case letters, digits and _ only'),
  opts: z
    .strictObject({
      language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as hi or en_US').optional(),
      bodyParams: z.array(text(LIMITS.templateParam)).max(100).optional(),
      buttonParams: z
        .array(z.strictObject({ index: z.number().int().min(0).max(9), subType: z.enum(['url', 'quick_reply']), param: text(LIMITS.templateParam) }))
        .max(10)
        .optional(),
    })
    .optional(),
});

/**
 * A pre-approved template (`ask_issue_resolved` by default is sent in Hindi),
 * optionally with body parameters and button parameters (a dynamic template).
 */
export function templateMessage(
  name: string,
  opts?: { language?: string; bodyParams?: string[]; buttonParams?: { index: number; subType: 'url' | 'quick_reply'; param: string }[] },
): CloudMessage {
  const v = parse('template message', templateInput, { name, opts });
  const buttons = v.opts?.buttonParams ?? [];
  if (new Set(buttons.map((b) => b.index)).size !== buttons.length) throw new MessageBuildError('template message: opts.buttonParams: each button index at most once');
  const components = [
    ...(v.opts?.bodyParams?.length ? [{ type: 'body', parameters: v.opts.bodyParams.map((p) => ({ type: 'text', text: p })) }] : []),
    ...buttons.map((b) => ({
      type: 'button',
      sub_type: b.subType,
      index: String(b.index),
      parameters: [b.subType === 'url' ? { type: 'text', text: b.param } : { type: 'payload', payload: b.param }],
    })),
  ];
  return {
    type: 'template',
    template: { name: v.name, language: { code: v.opts?.language ?? 'hi' }, ...(components.length ? { components } : {}) },
  };
}

const buttonsInput = z.strictObject({
  body: text(LIMITS.interactiveBody),
  buttons: z
    .array(z.strictObject({ id: text(LIMITS.buttonId), title: text(LIMITS.buttonTitle) }))
    .min(1, 'at least 1 button')
    .max(LIMITS.maxButtons, `at most ${LIMITS.maxButtons} buttons`)
    .refine((bs) => new Set(bs.map((b) => b.id)).size === bs.length, 'button ids must be unique'),
  opts: layout,
});

/** Quick-reply buttons (1 to 3, titles of at most 20 characters, unique ids). */
export function replyButtonsMessage(body: string, buttons: readonly { id: string; title: string }[], opts?: { header?: string; footer?: string }): CloudMessage {
  const v = parse('reply buttons message', buttonsInput, { body, buttons, opts });
  return interactive('button', v.body, v.opts, { buttons: v.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) });
}

const listInput = z
  .strictObject({
    body: text(LIMITS.interactiveBody),
    buttonText: text(LIMITS.listButton),
    sections: z
      .array(
        z.strictObject({
          title: text(LIMITS.sectionTitle).optional(),
          rows: z
            .array(z.strictObject({ id: text(LIMITS.rowId), title: text(LIMITS.rowTitle), description: text(LIMITS.rowDescription).optional() }))
            .min(1, 'at least 1 row'),
        }),
      )
      .min(1, 'at least 1 section')
      .max(LIMITS.listSections, `at most ${LIMITS.listSections} sections`),
    opts: layout,
  })
  .superRefine((v, ctx) => {
    const rows = v.sections.flatMap((s) => s.rows);
    if (rows.length > LIMITS.listRows) ctx.addIssue({ code: 'custom', path: ['sections'], message: `at most ${LIMITS.listRows} rows in all (got ${rows.length})` });
    if (new Set(rows.map((r) => r.id)).size !== rows.length) ctx.addIssue({ code: 'custom', path: ['sections'], message: 'row ids must be unique' });
    if (v.sections.length > 1 && v.sections.some((s) => s.title === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['sections'], message: 'every section needs a title when there are several' });
    }
  });

/** A list (menu) message: up to 10 sections and 10 rows in all. */
export function listMessage(
  body: string,
  buttonText: string,
  sections: readonly { title?: string; rows: readonly { id: string; title: string; description?: string }[] }[],
  opts?: { header?: string; footer?: string },
): CloudMessage {
  const v = parse('list message', listInput, { body, buttonText, sections, opts });
  return interactive('list', v.body, v.opts, {
    button: v.buttonText,
    sections: v.sections.map((s) => ({
      ...(s.title !== undefined ? { title: s.title } : {}),
      rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description !== undefined ? { description: r.description } : {}) })),
    })),
  });
}

const ctaInput = z.strictObject({ body: text(LIMITS.interactiveBody), displayText: text(LIMITS.ctaDisplayText), url: httpUrl, opts: layout });

/** A call-to-action button opening `url` (e.g. the app link https://oneway.cab/app). */
export function ctaUrlMessage(body: string, displayText: string, url: string, opts?: { header?: string; footer?: string }): CloudMessage {
  const v = parse('CTA URL message', ctaInput, { body, displayText, url, opts });
  return interactive('cta_url', v.body, v.opts, { name: 'cta_url', parameters: { display_text: v.displayText, url: v.url } });
}

/** OneWay.Cab's support contact (spec FR-7): care@oneway.cab, OneWay.Cab, https://oneway.cab/. */
export const SUPPORT_CONTACT = Object.freeze({ name: 'OneWay.Cab Support', email: 'care@oneway.cab', company: 'OneWay.Cab', website: 'https://oneway.cab/' });

/** The support contact card. */
export function contactCardMessage(): CloudMessage {
  return {
    type: 'contacts',
    contacts: [
      {
        name: { formatted_name: SUPPORT_CONTACT.name, first_name: SUPPORT_CONTACT.company, last_name: 'Support' },
        org: { company: SUPPORT_CONTACT.company },
        emails: [{ email: SUPPORT_CONTACT.email, type: 'WORK' }],
        urls: [{ url: SUPPORT_CONTACT.website, type: 'WORK' }],
      },
    ],
  };
}

type MediaRef = { id: string } | { link: string };

function media(kind: 'image' | 'video' | 'document', ref: MediaRef, extra: { caption?: string | undefined; filename?: string | undefined }): CloudMessage {
  const v = parse(`${kind} message`, z.strictObject({ media: mediaRef, caption: text(LIMITS.caption).optional(), filename: text(LIMITS.filename).optional() }), { media: ref, ...extra });
  return {
    type: kind,
    [kind]: { ...v.media, ...(v.caption !== undefined ? { caption: v.caption } : {}), ...(v.filename !== undefined ? { filename: v.filename } : {}) },
  };
}

/** A video by uploaded media id or public link, with an optional caption. */
export function videoMessage(ref: MediaRef, caption?: string): CloudMessage {
  return media('video', ref, { caption });
}

/** An image by uploaded media id or public link, with an optional caption. */
export function imageMessage(ref: MediaRef, caption?: string): CloudMessage {
  return media('image', ref, { caption });
}

/** A document by uploaded media id or public link, with an optional caption and file name. */
export function documentMessage(ref: MediaRef, opts?: { caption?: string; filename?: string }): CloudMessage {
  return media('document', ref, { caption: opts?.caption, filename: opts?.filename });
}

/** Message types the outbox accepts; each body carries an object under its type's name. */
export const OUTBOUND_TYPES = Object.freeze(['text', 'template', 'interactive', 'contacts', 'image', 'video', 'document', 'audio', 'sticker', 'location', 'reaction'] as const);

/** Checks a body built elsewhere before it is recorded: a known type, its object, no envelope fields. */
export function assertCloudMessage(m: CloudMessage): void {
  const type = m.type;
  if (typeof type !== 'string' || !(OUTBOUND_TYPES as readonly string[]).includes(type)) throw new MessageBuildError(`message: unknown type ${JSON.stringify(type)}`);
  const inner = m[type];
  if (typeof inner !== 'object' || inner === null || (Array.isArray(inner) && type !== 'contacts')) throw new MessageBuildError(`message: a ${type} message needs a "${type}" object`);
  for (const k of ['messaging_product', 'recipient_type', 'to']) if (k in m) throw new MessageBuildError(`message: "${k}" is added by the outbox, not the message`);
}
