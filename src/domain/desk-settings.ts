/**
 * The shapes of the help desk's admin settings: canned responses and the
 * label catalogue. Plain rules shared by the store (what it keeps) and the
 * HTTP routes (what they accept).
 */
import { z } from 'zod';

/** The variables a canned response may use; the console fills them in when the agent picks the response. */
export const CANNED_VARIABLES = ['customer_name', 'customer_number', 'agent_name'] as const;

/** What an agent types after `/`: lower-case letters, digits, `-` and `_`, starting with a letter or digit. */
export const shortcodeSchema = z
  .string()
  .max(32)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _, starting with a letter or digit')
  .describe('what the agent types after `/`, e.g. `fare`');

/** The text of a canned response: `{{name}}` only for the known variables, so a typo is refused at save time, not sent to a customer. */
export const cannedTextSchema = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .superRefine((text, ctx) => {
    for (const m of text.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
      if (!(CANNED_VARIABLES as readonly string[]).includes(m[1]!)) {
        ctx.addIssue({ code: 'custom', message: `unknown variable {{${m[1]}}}: use ${CANNED_VARIABLES.map((v) => `{{${v}}}`).join(', ')}` });
      }
    }
  })
  .describe('the reply; may use {{customer_name}}, {{customer_number}} and {{agent_name}}');

export const cannedTitleSchema = z.string().trim().min(1).max(80).regex(/^[^\r\n]*$/, 'one line');

/** A label's name as chats carry it: lower-case words joined by single hyphens (`cab-not-arrived`). */
export const labelNameSchema = z
  .string()
  .max(32)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'lower-case words joined by single hyphens')
  .describe('the label as chats carry it, e.g. `cab-not-arrived`');

export const labelColorSchema = z.string().regex(/^#[0-9a-f]{6}$/, 'a colour as #rrggbb (lower case)').describe('the chip\'s colour, `#rrggbb`');

export const labelDescriptionSchema = z.string().trim().max(200).regex(/^[^\r\n]*$/, 'one line');
