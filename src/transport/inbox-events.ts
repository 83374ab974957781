import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ChatQueries } from '../actors/chat/chat.queries.ts';
import type { InboxCommands } from '../actors/chat/inbox-commands.ts';
import type { TypingRelay } from '../actors/chat/typing-relay.ts';
import { AVAILABILITY_STATUSES, type AgentAvailability, type Availability } from '../actors/inbox/availability.ts';
import type { TeamsStore } from '../actors/inbox/teams-store.ts';
import { CUSTOMER_TYPES, type CustomerType } from '../domain/channels.ts';
import { labelNameSchema } from '../domain/desk-settings.ts';
import { AppError } from '../infra/errors.ts';
import { chatView, messageView } from './api-schemas.ts';
import type { Connection, Frame } from './ws-hub.ts';

const chatId = z.string().min(1).max(64);
const customerType = z.enum(CUSTOMER_TYPES as [CustomerType, ...CustomerType[]]);
/** A label: a name the admin's label catalogue can hold (`desk-settings.ts`). */
export const labelName = labelNameSchema;
const availability = z.enum(AVAILABILITY_STATUSES);
/** A snooze lasts at most this long (WhatsApp conversations older than that are better resolved). */
export const MAX_SNOOZE_MS = 30 * 86_400_000;
const snoozeUntil = z
  .union([z.iso.datetime({ offset: true }).transform((v) => Date.parse(v)), z.number().int().min(0)])
  .describe('the wake-up time: an ISO time or epoch ms, in the future and at most 30 days ahead');
const listStatus = z.enum(['active', 'pending', 'snoozed', 'resolved']);

/** The team-inbox events' `data` (#18), validated like the spec's events. */
export const inboxSchemas = {
  set_availability: z.looseObject({ status: availability }),
  fetch_agents: z.looseObject({}),
  assign_chat: z.looseObject({ chat_id: chatId, assignee: z.string().min(1).max(64).nullable().describe('a username; null unassigns (the chat joins the Unassigned queue)') }),
  set_chat_status: z.looseObject({ chat_id: chatId, status: z.enum(['active', 'pending', 'resolved']) }),
  snooze_chat: z.looseObject({ chat_id: chatId, until: snoozeUntil.optional() }),
  send_note: z.looseObject({ chat_id: chatId, message: z.string().trim().min(1).max(4096) }),
  add_label: z.looseObject({ chat_id: chatId, label: labelName }),
  remove_label: z.looseObject({ chat_id: chatId, label: labelName }),
  typing: z.looseObject({ chat_id: chatId }),
  inbox_counts: z.looseObject({ status: listStatus.default('active'), customer_type: customerType.optional(), label: labelName.optional() }),
};

export type InboxEvent = keyof typeof inboxSchemas;

const agentView = z.object({ username: z.string(), status: availability, connected: z.boolean(), open_chats: z.number().int().min(0), teams: z.array(z.string()) });

export const inboxReplySchemas = {
  set_availability: z.object({ agent: z.string(), status: availability }),
  fetch_agents: z.object({ agents: z.array(agentView), agent_cap: z.number().int().min(1) }),
  assign_chat: z.object({ chat: chatView }),
  set_chat_status: z.object({ chat: chatView }),
  snooze_chat: z.object({ chat: chatView }),
  send_note: z.object({ message: messageView }),
  add_label: z.object({ chat: chatView }),
  remove_label: z.object({ chat: chatView }),
  typing: z.object({ chat_id: z.string(), typing: z.literal(true) }),
  inbox_counts: z.object({ status: listStatus, mine: z.number().int().min(0), unassigned: z.number().int().min(0), all: z.number().int().min(0) }),
} as const satisfies Record<InboxEvent, z.ZodType>;

export const inboxEventSummaries: Record<InboxEvent, string> = {
  set_availability: 'Sets the agent\'s availability: only `online` agents get chats by round robin (an agent with no socket on any pod for AGENT_OFFLINE_AFTER_MS is set offline, and its next socket restores what it had).',
  fetch_agents: 'The agents (who ever connected, and every team member): availability, whether connected, open chats (active + pending), teams; and the per-agent cap.',
  assign_chat: 'Assigns, reassigns or (assignee null) unassigns the chat by hand.',
  set_chat_status: 'Sets the chat active, pending (waiting for the customer) or resolved (inside the 24-hour window resolving sends the CSAT question).',
  snooze_chat: 'Snoozes the chat until `until`, or (without it) until the customer writes; the customer writing wakes it earlier.',
  send_note: 'A private note in the conversation: shown to agents, never sent to WhatsApp; `@username` notifies that agent (`mention`).',
  add_label: 'Adds a label of the admin\'s label catalogue to the chat (at most 20; NOT_FOUND for a name the catalogue does not have).',
  remove_label: 'Removes a label from the chat.',
  typing: 'The agent is typing: the chat\'s room gets `agent_typing`, and the customer WhatsApp\'s typing indicator (at most once per chat every TYPING_INDICATOR_MIN_MS, inside the 24-hour window).',
  inbox_counts: 'How many chats in `status` are the agent\'s (mine), unassigned, and in all (with the list\'s customer type and label filters).',
};

export interface InboxEventDeps {
  commands: InboxCommands;
  queries: ChatQueries;
  availability: AgentAvailability;
  teams: TeamsStore;
  typing: TypingRelay;
  /** Whether a username is an agent (an enabled account, or an identity that has connected). */
  knownAgent(username: string): Promise<boolean>;
  /** Open chats per agent (the cap's count). */
  loads(agents: readonly string[]): Promise<Map<string, number>>;
  /** Whether the admin's label catalogue has this label (only those are added to chats). */
  labelExists?(name: string): Promise<boolean>;
}

/** Answers the team-inbox events; `data` is already validated with `inboxSchemas`. */
export function inboxEventHandler(deps: InboxEventDeps) {
  return async function handle(conn: Connection, frame: Frame, event: InboxEvent, data: Record<string, unknown>): Promise<unknown> {
    const agent = conn.identity.sub;
    switch (event) {
      case 'set_availability':
        await deps.availability.set(agent, data.status as Availability);
        return { agent, status: data.status };
      case 'fetch_agents': {
        const [present, teams, settings] = await Promise.all([deps.availability.all(), deps.teams.all(), deps.teams.getSettings()]);
        const names = [...new Set([...present.map((p) => p.username), ...teams.flatMap((t) => t.agents)])].sort();
        const loads = await deps.loads(names);
        const byName = new Map(present.map((p) => [p.username, p]));
        const agents = names.map((username) => ({
          username,
          status: byName.get(username)?.status ?? ('offline' as const),
          connected: byName.get(username)?.connected ?? false,
          open_chats: loads.get(username) ?? 0,
          teams: teams.filter((t) => t.agents.includes(username)).map((t) => t.id),
        }));
        return { agents, agent_cap: settings.agent_cap };
      }
      case 'assign_chat': {
        const assignee = data.assignee as string | null;
        if (assignee !== null && assignee !== agent && !(await deps.knownAgent(assignee))) throw new AppError('NOT_FOUND', `No agent ${assignee}`);
        return { chat: await deps.commands.assign(agent, data.chat_id as string, assignee) };
      }
      case 'set_chat_status':
        return { chat: await deps.commands.setStatus(agent, data.chat_id as string, data.status as 'active' | 'pending' | 'resolved') };
      case 'snooze_chat': {
        const until = data.until === undefined ? null : (data.until as number);
        const now = Date.now();
        if (until !== null && (until <= now || until > now + MAX_SNOOZE_MS)) throw new AppError('VALIDATION_FAILED', 'until: expected a time in the future, at most 30 days ahead');
        return { chat: await deps.commands.snooze(agent, data.chat_id as string, until) };
      }
      case 'send_note': {
        // A retried frame (same id, same text) is stored once, as send_message.
        const text = data.message as string;
        const requestId = frame.id === null ? randomUUID() : `${frame.id}:${createHash('sha256').update(text).digest('base64url').slice(0, 16)}`;
        return { message: await deps.commands.note(agent, data.chat_id as string, text, requestId) };
      }
      case 'add_label':
        if (deps.labelExists && !(await deps.labelExists(data.label as string))) throw new AppError('NOT_FOUND', `No label ${String(data.label)} in the label catalogue`);
        return { chat: await deps.commands.label(agent, data.chat_id as string, data.label as string, 'add') };
      case 'remove_label':
        return { chat: await deps.commands.label(agent, data.chat_id as string, data.label as string, 'remove') };
      case 'typing':
        await deps.typing.typing(agent, data.chat_id as string);
        return { chat_id: data.chat_id, typing: true };
      case 'inbox_counts':
        return deps.queries.inboxCounts(agent, data as never);
    }
  };
}
