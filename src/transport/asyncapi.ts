/**
 * The AsyncAPI 3 document of the agent WebSocket, built from the schemas
 * `ws-events.ts` validates requests with and returns replies by, the error
 * frame, and the pushes (`api-schemas.ts`). Payloads are JSON Schema draft-07
 * (AsyncAPI's default schema format). Built once at start-up (`docs.routes.ts`).
 */
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../infra/errors.ts';
import { PUSHES, errorDetail } from './api-schemas.ts';
import { jsonSchema } from './openapi.ts';
import { MAX_FRAME } from './ws-hub.ts';
import { eventSummaries, replySchemas, schemas, type AgentEvent } from './ws-events.ts';

type Json = Record<string, unknown>;

/** The codes an error frame may carry (CONTRACT.md), plus the server-side failures every event may meet. */
export const WS_ERROR_CODES: ErrorCode[] = ['VALIDATION_FAILED', 'UNKNOWN_EVENT', 'NOT_FOUND', 'FORBIDDEN', 'RATE_LIMITED', 'BAD_ENCODING', 'OUTSIDE_SERVICE_WINDOW', 'INVALID_TRANSITION', 'UNAUTHORIZED',
  ...(Object.keys(ERRORS) as ErrorCode[]).filter((c) => ERRORS[c].status >= 500)];

const frameId = z.union([z.string().max(128), z.number()]).describe('correlation id, echoed in the reply');

/** The frame schemas, by message name (the tests validate frames with the document's copies of these). */
export function frameSchemas(): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  for (const event of Object.keys(schemas) as AgentEvent[]) {
    out[`${event}.request`] = z.object({ event: z.literal(event), data: schemas[event].optional(), id: frameId.optional() });
    out[`${event}.reply`] = z.object({ event: z.literal(event), id: frameId.nullable(), data: replySchemas[event] });
  }
  out.error = z.object({ event: z.literal('error'), id: frameId.nullable().describe('the request\'s id, null when it had none or could not be read'), error: errorDetail(WS_ERROR_CODES) });
  for (const [name, push] of Object.entries(PUSHES)) out[name] = z.object({ event: z.literal(name), data: push.data });
  return out;
}

const ref = (path: string) => ({ $ref: path });

/** Where a push goes, in words: the dashboard room, the chat's room, or one agent's own sockets. */
function pushRoom(room: string): string {
  return room === 'dashboard' ? 'the dashboard room (every connection)' : room === 'the agent' ? 'one agent\'s own connections (room `agent:<username>`)' : 'the chat\'s room';
}

export function buildAsyncApi(info: { version: string }): Json {
  const frames = frameSchemas();
  const messages: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(frames)) {
    const [event, kind] = name.split('.') as [string, string | undefined];
    const isRequest = kind === 'request';
    messages[name.replace('.', '_')] = {
      name,
      title: kind ? `${event} ${kind}` : name,
      summary: kind
        ? (isRequest ? eventSummaries[event as AgentEvent] : `The reply to ${event}, with the request's id.`)
        : name === 'error'
          ? 'A request failed: the frame\'s id and a coded error. A bad frame never closes the connection.'
          : `Push to ${pushRoom(PUSHES[name as keyof typeof PUSHES].room)}: ${PUSHES[name as keyof typeof PUSHES].summary}`,
      contentType: 'application/json',
      payload: jsonSchema(schema, isRequest ? 'input' : 'output', 'draft-07'),
    };
  }
  const channel = (address: string, description: string, params?: Json): Json => ({
    address,
    description,
    messages: Object.fromEntries(Object.keys(messages).map((m) => [m, ref(`#/components/messages/${m}`)])),
    ...(params ? { parameters: params } : {}),
  });
  const channels = {
    dashboard: channel('/ws', 'A dashboard connection: in the `dashboard` room from the moment it opens; `join_chat` adds chat rooms.'),
    chat: channel('/ws/{chat_id}', 'A connection in that chat\'s room (and the `dashboard` room) from the moment it opens. For a chat that does not exist the server sends an error frame (id null, NOT_FOUND) and closes with 4404; when the chat could not be looked up, an error frame with the 503 code and close 1013 (try again later).', {
      chat_id: { description: 'the chat\'s id (at most 64 characters, percent-encoded)' },
    }),
  };
  const operations: Record<string, Json> = {};
  for (const [key, ch] of [['', 'dashboard'], ['OnChat', 'chat']] as const) {
    for (const event of Object.keys(schemas) as AgentEvent[]) {
      operations[`${event}${key}`] = {
        action: 'receive',
        channel: ref(`#/channels/${ch}`),
        title: event,
        summary: eventSummaries[event],
        messages: [ref(`#/channels/${ch}/messages/${event}_request`)],
        reply: { channel: ref(`#/channels/${ch}`), messages: [ref(`#/channels/${ch}/messages/${event}_reply`), ref(`#/channels/${ch}/messages/error`)] },
      };
    }
    for (const name of Object.keys(PUSHES)) {
      operations[`push_${name}${key}`] = { action: 'send', channel: ref(`#/channels/${ch}`), title: name, summary: PUSHES[name as keyof typeof PUSHES].summary, messages: [ref(`#/channels/${ch}/messages/${name}`)] };
    }
  }
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Smart Chat agent WebSocket',
      version: info.version,
      description: `The agent WebSocket, generated from the zod schemas the server validates with. Every frame is one JSON object: a request \`{"event", "data", "id"}\` gets one reply \`{"event", "id", "data"}\` or an error frame \`{"event": "error", "id", "error": {"code", "message"}}\`; pushes carry \`{"event", "data"}\` and no id. Frames over ${MAX_FRAME / 1024} KiB close the connection; more than 20 frames a second (burst 40) are refused with RATE_LIMITED. The token is \`?token=\` on the upgrade URL or \`Authorization: Bearer\`; the connection closes (4401) when it expires or, for an account's token, is revoked. Paged events take \`page\` (from 1) and \`page_size\` (1–100, default 10).`,
    },
    defaultContentType: 'application/json',
    servers: {
      self: { host: 'localhost:5000', protocol: 'ws', description: 'this server (the same host and port as the HTTP API; wss behind TLS)', security: [ref('#/components/securitySchemes/token'), ref('#/components/securitySchemes/bearer')] },
    },
    channels,
    operations,
    components: {
      messages,
      securitySchemes: {
        token: { type: 'httpApiKey', in: 'query', name: 'token', description: 'the agent JWT as `?token=` on the upgrade URL' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT signed with AGENT_JWT_SECRET' },
      },
    },
  };
}
