/**
 * The OpenAPI 3.1 document of every HTTP route, built from the route files'
 * `…RouteDocs` (their zod schemas through `z.toJSONSchema`, draft 2020-12,
 * OpenAPI 3.1's dialect). Built once at start-up (`docs.routes.ts`).
 */
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../infra/errors.ts';
import { errorBody, type RouteDoc } from './api-schemas.ts';
import { BODY_LIMIT } from './http.ts';

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

/** A zod schema as an inline JSON Schema (no `$schema` key), in the given draft. */
export function jsonSchema(schema: z.ZodType, io: Io, target: 'draft-2020-12' | 'draft-07' = 'draft-2020-12'): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io, target, unrepresentable: 'any', reused: 'inline', cycles: 'ref' }) as Json;
  return rest;
}

/** Codes every route may answer: the server's own failures, retryable or not. */
const SERVER_CODES = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => ERRORS[c].status >= 500);

/** Every error code `route` answers: its own, plus those its auth, body and path imply. */
export function routeErrorCodes(route: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.errors ?? []);
  if (route.auth === 'agent' || route.auth === 'admin') codes.add('UNAUTHORIZED');
  if (route.auth === 'admin') codes.add('FORBIDDEN');
  // Every admin route is behind the admin request budget (app.ts, `http-rate-limit.ts`).
  if (route.auth === 'admin') codes.add('RATE_LIMITED');
  if (route.auth === 'signature') codes.add('BAD_SIGNATURE');
  if (route.body) for (const c of ['BAD_JSON', 'VALIDATION_FAILED'] as const) codes.add(c);
  if (route.method !== 'get') codes.add('PAYLOAD_TOO_LARGE');
  if (route.params) codes.add('BAD_ENCODING');
  if (route.query || route.body) codes.add('VALIDATION_FAILED');
  for (const c of SERVER_CODES) codes.add(c);
  if (route.path.startsWith('/api/health') || route.path === '/metrics' || route.path.startsWith('/api/openapi') || route.path.startsWith('/api/asyncapi') || route.path === '/api/docs') {
    // Served from memory: only a fault of the server itself.
    for (const c of SERVER_CODES) if (c !== 'INTERNAL') codes.delete(c);
  }
  return [...codes];
}

function responses(route: RouteDoc): Json {
  const out: Record<string, Json> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    out[status] = {
      description: r.description,
      content: { [r.contentType ?? 'application/json']: r.schema ? { schema: jsonSchema(r.schema, 'output') } : {} },
    };
  }
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of routeErrorCodes(route)) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const schema = jsonSchema(errorBody(codes), 'output');
    const own = out[status];
    const description = codes.map((c) => `\`${c}\`: ${ERRORS[c].message}`).join('; ');
    if (own) {
      // The route's own body for this status, or the error body.
      const content = own.content as Record<string, { schema?: Json }>;
      const json = content['application/json'] ?? {};
      content['application/json'] = { schema: json.schema ? { anyOf: [json.schema, schema] } : schema };
      own.description = `${String(own.description)}; or the error body (${description})`;
    } else {
      out[status] = { description, content: { 'application/json': { schema } } };
    }
    if (codes.some((c) => 'retryAfterS' in ERRORS[c]) || codes.includes('RATE_LIMITED')) {
      out[status]!.headers = { 'Retry-After': { description: 'seconds to wait before retrying (load shedding)', schema: { type: 'integer' } } };
    }
  }
  return out;
}

function operation(route: RouteDoc): Json {
  const parameters: Json[] = [];
  for (const [name, p] of Object.entries(route.params ?? {})) {
    parameters.push({ name, in: 'path', required: true, ...(p.description ? { description: p.description } : {}), schema: jsonSchema(p.schema, 'input') });
  }
  if (route.query) {
    const shape = jsonSchema(route.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(shape.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: 'query', required: shape.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
    }
  }
  for (const [name, h] of Object.entries(route.headers ?? {})) {
    parameters.push({ name, in: 'header', required: false, description: h.description, schema: jsonSchema(h.schema, 'input') });
  }
  const security = route.auth === 'agent' || route.auth === 'admin' ? [{ bearer: [] }] : route.auth === 'signature' ? [{ webhookSignature: [] }, {}] : [];
  const description = [
    route.description,
    route.auth === 'admin' ? 'Needs an admin token (`role: admin`).' : route.auth === 'agent' ? 'Needs an agent or admin token.' : undefined,
    route.sideEffects ? 'HEAD answers 405 (the GET acts).' : route.method === 'get' ? 'HEAD answers the same status and headers without a body.' : undefined,
  ].filter(Boolean).join(' ');
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: route.tags,
    security,
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
    responses: responses(route),
  };
}

export function operationId(route: RouteDoc): string {
  const words = route.path.replace(/[{}]/g, '').split(/[/_.-]+/).filter((w) => w && w !== 'api');
  return route.method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** The OpenAPI 3.1 document for `routes`. */
export function buildOpenApi(routes: readonly RouteDoc[], info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  const tags = [...new Set(routes.flatMap((r) => r.tags))].sort().map((name) => ({ name, description: TAGS[name] ?? name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Smart Chat HTTP API',
      version: info.version,
      description: `The HTTP interface of Smart Chat, generated from the zod schemas the routes validate with. JSON bodies (at most ${BODY_LIMIT / 1024} KiB, else 413); success bodies carry \`"status": 1\`, errors \`{"status": 0, "error": {"code", "message"}}\`. An unmatched path or method answers 404 \`NOT_FOUND\`. The agent WebSocket is described by /api/asyncapi.json.`,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/', description: 'this server' }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT signed with AGENT_JWT_SECRET: `sub` the agent, `exp` required, `role` agent or admin; tokens from POST /api/auth/login also carry `tv`, the account\'s token version, and stop working when it is revoked.' },
        webhookSignature: { type: 'apiKey', in: 'header', name: 'X-Hub-Signature-256', description: '`sha256=<hex HMAC-SHA256 of the raw body>` with WEBHOOK_SECRET; checked only when that is set.' },
      },
    },
  };
}

const TAGS: Record<string, string> = {
  health: 'Liveness, readiness, metrics',
  webhook: 'Inbound WhatsApp webhooks and profile updates from OneWay.Cab systems',
  dashboard: 'Dashboard counters',
  outbound: 'Outbound WhatsApp and its caches',
  media: 'Customer media: stored files, byte ranges, signed links',
  machines: 'State machine definitions and live actors',
  discount: 'The discount route catalogue (admins)',
  inbox: 'Team inbox: teams, numbers and the per-agent cap (admins)',
  docs: 'These interface documents',
  accounts: 'Agent accounts: login and their administration',
  console: 'The agent console (a web page)',
  desk: 'Canned responses and the label catalogue (agents read, admins edit)',
  reports: 'Conversation reports: volumes, response and resolution times, CSAT',
};
