/**
 * The predefined text responses of spec FR-7, as data in one place. The
 * discount flow (FR-2) answers keywords and unrecognised messages with them.
 * Where the spec only summarises a text ("job application form link + HR
 * contact"), the wording here is ours; the links are OneWay.Cab's public site
 * and support address, to be confirmed by the business before a campaign.
 */

export type ResponseKey = 'discount' | 'textMsg' | 'care_job' | 'unlock_diya' | 'default';

/** The customer-support WhatsApp number (spec §3, the Customer channel), for wa.me links. */
export const SUPPORT_WHATSAPP = '919638106888';
export const SUPPORT_EMAIL = 'care@oneway.cab';

export const PREDEFINED_RESPONSES: Readonly<Record<ResponseKey, string>> = Object.freeze({
  /** The Pune–Mumbai campaign message (the default campaign route, code TRUST4111). */
  discount: [
    'Namaste! 🙏',
    'Pune ➜ Mumbai Airport, one way, only ₹2199 with OneWay.Cab. 🚖',
    '',
    '🎟️ Discount code: *TRUST4111*',
    'Apply it at checkout in the OneWay.Cab app: https://oneway.cab/app',
    '',
    'No return fare. No hidden charges. ✅',
  ].join('\n'),
  /** The answer to media, locations and other non-text messages. */
  textMsg: "Currently, we're supporting only text msg.",
  /** Job and career questions: where to apply and whom to ask. */
  care_job: [
    'Thank you for your interest in working with OneWay.Cab! 🙌',
    'Apply here: https://oneway.cab/careers',
    `HR contact: ${SUPPORT_EMAIL} (subject "Job application")`,
  ].join('\n'),
  /** The festival (Diya) offer. */
  unlock_diya: [
    '🪔 Happy festivities from OneWay.Cab!',
    'Use code *PROMISE500* for 5% off your next ride (up to ₹500).',
    'Book now: https://oneway.cab/app',
  ].join('\n'),
  /** Anything the automated number does not understand. */
  default: [
    'This is an automated number. 24*7 WhatsApp support is available at',
    `https://wa.me/${SUPPORT_WHATSAPP}`,
    `or write to ${SUPPORT_EMAIL}. 🙏`,
  ].join('\n'),
});

/** The response for `key`, falling back to `default` for keys the table does not have. */
export function predefinedResponse(key: string): string {
  return Object.hasOwn(PREDEFINED_RESPONSES, key) ? PREDEFINED_RESPONSES[key as ResponseKey] : PREDEFINED_RESPONSES.default;
}
