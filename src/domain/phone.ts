/**
 * Customer numbers are stored and shown as the 10-digit national number
 * (CONTRACT.md): the webhook's `wa_id` without India's `91`. Numbers from
 * other countries (Meta's own examples use US numbers) keep all their digits.
 */

/** The stored form of a phone number, or null when it is not one. */
export function normalizeNumber(input: string): string | null {
  const digits = input.trim().replace(/[\s+()-]/g, '');
  if (!/^\d{8,15}$/.test(digits)) return null;
  if (digits.length === 12 && digits.startsWith('91')) return digits.slice(2);
  if (digits.length === 11 && digits.startsWith('0')) return digits.slice(1);
  return digits;
}

/** The form WhatsApp sends to: `91` + a 10-digit national number, other numbers as they are. */
export function toWhatsApp(stored: string): string {
  return stored.length === 10 ? `91${stored}` : stored;
}
