/**
 * Customer numbers are stored and shown as the 10-digit national number
 * (CONTRACT.md); WhatsApp's `wa_id` carries the `91` country code.
 */
const NATIONAL = /^[6-9]\d{9}$/;

/** The 10-digit national form of an Indian mobile number, or null if it is not one. */
export function toNational(input: string): string | null {
  const digits = input.replace(/[\s+()-]/g, '');
  if (!/^\d+$/.test(digits)) return null;
  const national = digits.length === 12 && digits.startsWith('91') ? digits.slice(2) : digits.length === 11 && digits.startsWith('0') ? digits.slice(1) : digits;
  return NATIONAL.test(national) ? national : null;
}

/** The international form WhatsApp sends to: `91` + national number. */
export function toWhatsApp(national: string): string {
  return `91${national}`;
}
