import { assign, emit, setup } from 'xstate';

/**
 * The automated discount conversation on the discount channel (spec FR-2,
 * §14.4): one actor per customer. Pure and self-contained (it loads in the
 * Stately visualizer as is): the runtime classifies each WhatsApp message into
 * one of the events below (matching routes against the catalogue), and
 * carries out what the machine emits (`offer.send`, `code.send`, …) after the
 * new state is stored. Every waiting state times out after IDLE_TIMEOUT; the
 * conversation then ends, and a later message starts it again from `ended`.
 */

export interface DiscountRoute {
  id: string;
  name: string;
  price: number;
  code: string;
  /** False when the route is disabled or outside its validity dates at the time of the message. */
  available: boolean;
}

export type DiscountReason = 'bad_service' | 'prices_high' | 'other';
/** What `no_discount_log` records: a reason pressed, or `none` for a decline left unexplained until the conversation ended. */
export type LoggedReason = DiscountReason | 'none';
export type PredefinedKey = 'textMsg' | 'care_job' | 'unlock_diya';

export interface DiscountContext {
  customer: string;
  /** The route last offered (or sent), used when "Yes, Send Discount Code" names none. */
  lastRoute: DiscountRoute | null;
  idleTimeoutMs: number;
  conversations: number;
  /**
   * The last decline not yet given a reason: logged as `none` when the conversation ends (or the customer
   * declines again) without one (`loggedNone`); a reason pressed later still replaces that `none`.
   */
  pendingDecline?: { eventId: string; at: number; loggedNone?: boolean } | null;
}

export interface DiscountInput {
  customer: string;
  idleTimeoutMs: number;
}

export type DiscountEvent =
  /** The customer asked for a route's discount ("Need Discount Code - Pune to Mumbai Airport @ 2199"). */
  | { type: 'ROUTE_REQUESTED'; id: string; at: number; route: DiscountRoute }
  /** "Yes, Send Discount Code": the route named in the button payload, else the default campaign route. */
  | { type: 'ACCEPTED'; id: string; at: number; route: DiscountRoute | null; campaignRoute: DiscountRoute | null }
  /** "I don't need discount". */
  | { type: 'DECLINED'; id: string; at: number }
  /** One of the reason buttons. */
  | { type: 'REASON_GIVEN'; id: string; at: number; reason: DiscountReason; text: string }
  /** A keyword with a predefined answer, or a non-text message (`textMsg`). */
  | { type: 'KEYWORD'; id: string; at: number; key: PredefinedKey }
  /** The customer asks for a person ("agent", "call me", "baat karni hai", …). */
  | { type: 'HUMAN_REQUESTED'; id: string; at: number; text: string }
  /** Anything else. */
  | { type: 'UNRECOGNISED'; id: string; at: number; text: string };

/**
 * What the customer hears when handed to people: the care message and contact card (the care path), a short
 * notice that a person will answer (they asked for one), or nothing (people have the chat already).
 */
export type HandoverNotice = 'care' | 'notice' | 'none';

export type DiscountEffect =
  | { type: 'offer.send'; route: DiscountRoute; eventId: string }
  | { type: 'code.send'; route: DiscountRoute; eventId: string }
  | { type: 'reasons.ask'; eventId: string }
  | { type: 'reason.log'; reason: LoggedReason; text: string; at: number; eventId: string }
  /** Kept for records stored before the handover: the care path now hands over (`handover.request`). */
  | { type: 'care.send'; eventId: string }
  /** The chat joins the agents' Active list (reopened if resolved); `say` is sent unless agents already had it. */
  | { type: 'handover.request'; say: HandoverNotice; at: number; eventId: string }
  | { type: 'predefined.send'; key: PredefinedKey; eventId: string };

/** What "Yes, Send Discount Code" resolves to: the payload's route, else the last offered, else the campaign's. */
function acceptedRoute(context: DiscountContext, event: DiscountEvent): DiscountRoute | null {
  if (event.type !== 'ACCEPTED') return null;
  return event.route ?? context.lastRoute ?? event.campaignRoute;
}

const HANDED_OVER = '#discount.conversation.handedOver';

/**
 * What every waiting state answers. Answers that keep the conversation where it
 * is re-enter `self`, so the idle timer counts from the customer's last message.
 * The care path and a request for a person hand the customer over to people.
 */
const answers = (self: string) => ({
  ROUTE_REQUESTED: [
    { guard: 'routeAvailable', target: '#discount.conversation.offered', reenter: true, actions: ['rememberRoute', 'sendOffer'] },
    { target: HANDED_OVER, actions: 'handOverWithCare' },
  ],
  ACCEPTED: [
    { guard: 'acceptedRouteAvailable', target: '#discount.conversation.codeSent', reenter: true, actions: ['rememberAcceptedRoute', 'sendCode'] },
    { target: HANDED_OVER, actions: 'handOverWithCare' },
  ],
  DECLINED: [
    { guard: 'declineUnexplained', target: '#discount.conversation.askedReason', reenter: true, actions: ['logNoReason', 'rememberDecline', 'askReasons'] },
    { target: '#discount.conversation.askedReason', reenter: true, actions: ['rememberDecline', 'askReasons'] },
  ],
  REASON_GIVEN: { target: '#discount.conversation.reasonRecorded', reenter: true, actions: ['logReason', 'forgetDecline'] },
  KEYWORD: { target: self, reenter: true, actions: 'sendPredefined' },
  HUMAN_REQUESTED: { target: HANDED_OVER, actions: 'handOverOnRequest' },
  UNRECOGNISED: { target: HANDED_OVER, actions: 'handOverWithCare' },
}) as const;

/** Once people have the chat the bot answers only what it can do (routes it can offer, the discount buttons) and otherwise stays quiet. */
const whileHandedOver = {
  ...answers(HANDED_OVER),
  ROUTE_REQUESTED: [answers(HANDED_OVER).ROUTE_REQUESTED[0], { target: HANDED_OVER, reenter: true, actions: 'handOverQuietly' }],
  ACCEPTED: [answers(HANDED_OVER).ACCEPTED[0], { target: HANDED_OVER, reenter: true, actions: 'handOverQuietly' }],
  KEYWORD: { target: HANDED_OVER, reenter: true, actions: 'handOverQuietly' },
  HUMAN_REQUESTED: { target: HANDED_OVER, reenter: true, actions: 'handOverQuietly' },
  UNRECOGNISED: { target: HANDED_OVER, reenter: true, actions: 'handOverQuietly' },
} as const;

export const discountMachine = setup({
  types: {
    context: {} as DiscountContext,
    events: {} as DiscountEvent,
    input: {} as DiscountInput,
    emitted: {} as DiscountEffect,
  },
  delays: {
    IDLE_TIMEOUT: ({ context }) => context.idleTimeoutMs,
  },
  guards: {
    routeAvailable: ({ event }) => event.type === 'ROUTE_REQUESTED' && event.route.available,
    acceptedRouteAvailable: ({ context, event }) => acceptedRoute(context, event)?.available === true,
    declineUnexplained: ({ context }) => Boolean(context.pendingDecline && !context.pendingDecline.loggedNone),
  },
  actions: {
    rememberRoute: assign({ lastRoute: ({ context, event }) => (event.type === 'ROUTE_REQUESTED' ? event.route : context.lastRoute) }),
    rememberAcceptedRoute: assign({ lastRoute: ({ context, event }) => acceptedRoute(context, event) ?? context.lastRoute }),
    countConversation: assign({ conversations: ({ context }) => context.conversations + 1 }),
    sendOffer: emit(({ event }) => {
      if (event.type !== 'ROUTE_REQUESTED') throw new Error('sendOffer needs ROUTE_REQUESTED');
      return { type: 'offer.send' as const, route: event.route, eventId: event.id };
    }),
    sendCode: emit(({ context, event }) => ({ type: 'code.send' as const, route: acceptedRoute(context, event)!, eventId: event.id })),
    askReasons: emit(({ event }) => ({ type: 'reasons.ask' as const, eventId: event.id })),
    rememberDecline: assign({ pendingDecline: ({ event }) => ({ eventId: event.id, at: event.at }) }),
    forgetDecline: assign({ pendingDecline: null }),
    markDeclineLogged: assign({ pendingDecline: ({ context }) => (context.pendingDecline ? { ...context.pendingDecline, loggedNone: true } : null) }),
    logReason: emit(({ context, event }) => {
      if (event.type !== 'REASON_GIVEN') throw new Error('logReason needs REASON_GIVEN');
      // Keyed by the decline it explains, so it replaces that decline's `none` if the conversation had ended.
      return { type: 'reason.log' as const, reason: event.reason, text: event.text, at: event.at, eventId: context.pendingDecline?.eventId ?? event.id };
    }),
    // Dated and keyed by the decline itself, so a re-run writes the same row once.
    logNoReason: emit(({ context }) => ({ type: 'reason.log' as const, reason: 'none' as const, text: 'none', at: context.pendingDecline?.at ?? 0, eventId: context.pendingDecline?.eventId ?? '' })),
    handOverWithCare: emit(({ event }) => ({ type: 'handover.request' as const, say: 'care' as const, at: event.at, eventId: event.id })),
    handOverOnRequest: emit(({ event }) => ({ type: 'handover.request' as const, say: 'notice' as const, at: event.at, eventId: event.id })),
    // Still sent on every message: people may have resolved the chat meanwhile, and a customer's word must reach them.
    handOverQuietly: emit(({ event }) => ({ type: 'handover.request' as const, say: 'none' as const, at: event.at, eventId: event.id })),
    sendPredefined: emit(({ event }) => {
      if (event.type !== 'KEYWORD') throw new Error('sendPredefined needs KEYWORD');
      return { type: 'predefined.send' as const, key: event.key, eventId: event.id };
    }),
  },
}).createMachine({
  id: 'discount',
  description: 'Discount campaign on WhatsApp 919638120888: offer → accept (code) or decline (reason); anything else, or a request for a person, hands the customer to people.',
  initial: 'ended',
  // `input` is absent when XState builds the throwaway actor behind every pure `transition()` call:
  // answering without throwing there saves the cost of an Error per event.
  context: ({ input }) => ({ customer: input?.customer ?? '', lastRoute: null, idleTimeoutMs: input?.idleTimeoutMs ?? 0, conversations: 0, pendingDecline: null }),
  states: {
    ended: {
      description: 'No conversation in progress (never started, or timed out). Any message starts one.',
      on: {
        ROUTE_REQUESTED: [
          { guard: 'routeAvailable', target: 'conversation.offered', actions: ['countConversation', 'rememberRoute', 'sendOffer'] },
          { target: 'conversation.handedOver', actions: ['countConversation', 'handOverWithCare'] },
        ],
        ACCEPTED: [
          { guard: 'acceptedRouteAvailable', target: 'conversation.codeSent', actions: ['countConversation', 'rememberAcceptedRoute', 'sendCode'] },
          { target: 'conversation.handedOver', actions: ['countConversation', 'handOverWithCare'] },
        ],
        DECLINED: { target: 'conversation.askedReason', actions: ['countConversation', 'rememberDecline', 'askReasons'] },
        REASON_GIVEN: { target: 'conversation.reasonRecorded', actions: ['countConversation', 'logReason', 'forgetDecline'] },
        KEYWORD: { target: 'conversation.waiting', actions: ['countConversation', 'sendPredefined'] },
        HUMAN_REQUESTED: { target: 'conversation.handedOver', actions: ['countConversation', 'handOverOnRequest'] },
        UNRECOGNISED: { target: 'conversation.handedOver', actions: ['countConversation', 'handOverWithCare'] },
      },
    },
    conversation: {
      initial: 'waiting',
      // A decline nobody explained is still a decline: product people see every one in no_discount_log.
      onDone: [{ guard: 'declineUnexplained', target: 'ended', actions: ['logNoReason', 'markDeclineLogged'] }, { target: 'ended' }],
      states: {
        waiting: {
          description: 'Waiting for a route request (after a predefined answer).',
          after: { IDLE_TIMEOUT: 'timedOut' },
          on: answers('#discount.conversation.waiting'),
        },
        offered: {
          description: 'The route’s discount text and the app link were sent.',
          after: { IDLE_TIMEOUT: 'timedOut' },
          on: answers('#discount.conversation.offered'),
        },
        codeSent: {
          description: 'The discount code was sent. Pressing "Yes" again is answered once, not twice.',
          after: { IDLE_TIMEOUT: 'timedOut' },
          on: { ...answers('#discount.conversation.codeSent'), ACCEPTED: [] },
        },
        askedReason: {
          description: 'Asked why: Bad Service / Prices are High / Other Reason. No answer before the conversation ends is logged as `none`.',
          after: { IDLE_TIMEOUT: 'timedOut' },
          on: { ...answers('#discount.conversation.askedReason'), DECLINED: [] },
        },
        reasonRecorded: {
          description: 'The reason is logged to no_discount_log. A second press is ignored.',
          after: { IDLE_TIMEOUT: 'timedOut' },
          on: { ...answers('#discount.conversation.reasonRecorded'), DECLINED: [], REASON_GIVEN: [] },
        },
        handedOver: {
          description: 'Handed to people (the care path, or the customer asked for one): the chat is in the agents’ Active list with the bot conversation as its history. The bot stays quiet, except for routes it can offer and the discount buttons.',
          after: { IDLE_TIMEOUT: 'timedOut' },
          on: whileHandedOver,
        },
        timedOut: { type: 'final', description: 'No message for IDLE_TIMEOUT: the conversation ends.' },
      },
    },
  },
});
