/**
 * WhatsApp delivery statuses only move forward (sent → delivered → read;
 * failed last): a late `delivered` never hides a `read`. The one ranking the
 * outbox and the chat's messages both follow.
 */
export const DELIVERY_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Statuses at or past `status`: a record already at one of them is not moved back to `status`. */
export function statusesNotBelow(status: string): string[] {
  const rank = (DELIVERY_STATUSES as readonly string[]).indexOf(status);
  return rank < 0 ? [...DELIVERY_STATUSES] : DELIVERY_STATUSES.slice(rank);
}
