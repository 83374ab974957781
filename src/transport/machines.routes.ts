import type { ActorHost } from '../actors/runtime/actor-host.ts';
import { MACHINES, machineJson } from '../machines/machine-docs.ts';
import { normalizeNumber } from '../domain/phone.ts';
import { AppError } from '../infra/errors.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { z } from 'zod';
import { customerType, okBody, type RouteDoc } from './api-schemas.ts';
import { validate } from './validate.ts';
import { chatKey } from '../domain/chat-key.ts';
import type { HttpRouter } from './http.ts';

/** For product people: the machine definitions, and what one actor is doing right now. */
export function registerMachineRoutes(router: HttpRouter, deps: { host: ActorHost; auth: Authenticator }): void {
  router.get('/api/machines', () => ({ json: { status: 1, data: { machines: [...MACHINES.keys()] } } }));

  router.get('/api/machines/:name', (req) => {
    const machine = MACHINES.get(req.params[0] ?? '');
    if (!machine) throw new AppError('NOT_FOUND', `No machine ${req.params[0]}`);
    return { json: { status: 1, name: req.params[0], machine: machineJson(machine) } };
  });

  router.get('/api/actors/:type/:id', async (req) => {
    await authenticate(req, deps.auth);
    const [type = '', rawId = ''] = req.params;
    if (!MACHINES.has(type)) throw new AppError('NOT_FOUND', `No actor type ${type}`);
    const number = normalizeNumber(rawId);
    if (!number) throw new AppError('VALIDATION_FAILED', 'id: expected the customer phone number');
    // A number has one chat per stakeholder type: the query says which (Customer unless told).
    const { customer_type: customerType } = validate(actorQuery, Object.fromEntries(req.query));
    const key = type === 'chat' ? chatKey(number, customerType) : number;
    const record = await deps.host.inspect(type, key);
    if (!record) throw new AppError('NOT_FOUND', `No ${type} actor for ${key}`);
    return {
      json: {
        status: 1,
        data: {
          type,
          id: number,
          state: record.state.value,
          context: record.state.context,
          version: record.version,
          deadlines: record.deadlines.map((d) => ({ id: d.id, due: new Date(d.due).toISOString() })),
          transitions: record.history.map((t) => ({ ...t, at: new Date(t.at).toISOString() })),
          dead_letters: (record.deadLetters ?? []).map((d) => ({ ...d, at: new Date(d.at).toISOString() })),
        },
      },
    };
  });
}

const at = z.iso.datetime({ offset: true });
const actorQuery = z.object({ customer_type: customerType.default('Customer').describe('chat actors only: which of the number\'s chats (one per stakeholder type)') });

export const machineRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/machines', tags: ['machines'], summary: 'The state machines\' names',
    responses: { 200: { description: 'Machine names', schema: okBody({ data: z.object({ machines: z.array(z.string()) }) }) } },
  },
  {
    method: 'get', path: '/api/machines/{name}', tags: ['machines'], summary: 'One machine\'s definition (for the Stately visualizer)',
    params: { name: { schema: z.string(), description: 'a name from GET /api/machines' } },
    responses: { 200: { description: 'The XState machine config as JSON', schema: okBody({ name: z.string(), machine: z.record(z.string(), z.unknown()) }) } },
    errors: ['NOT_FOUND'],
  },
  {
    method: 'get', path: '/api/actors/{type}/{id}', tags: ['machines'], summary: 'One actor\'s live state, context and recent transitions', auth: 'agent',
    params: { type: { schema: z.string(), description: 'a machine name' }, id: { schema: z.string(), description: 'the customer number (10 digits, or 91 and 10 digits)' } },
    query: actorQuery,
    responses: {
      200: {
        description: 'The actor record',
        schema: okBody({
          data: z.object({
            type: z.string(), id: z.string(), state: z.unknown(), context: z.unknown(), version: z.number().int(),
            deadlines: z.array(z.object({ id: z.string(), due: at })),
            transitions: z.array(z.looseObject({ at })),
            dead_letters: z.array(z.looseObject({ at })),
          }),
        }),
      },
    },
    errors: ['NOT_FOUND', 'VALIDATION_FAILED'],
  },
];
