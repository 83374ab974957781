import type { ActorHost } from '../actors/runtime/actor-host.ts';
import { MACHINES, machineJson } from '../machines/machine-docs.ts';
import { normalizeNumber } from '../domain/phone.ts';
import { AppError } from '../infra/errors.ts';
import { authenticate } from './auth.ts';
import type { HttpRouter } from './http.ts';

/** For product people: the machine definitions, and what one actor is doing right now. */
export function registerMachineRoutes(router: HttpRouter, deps: { host: ActorHost; jwtSecret: string }): void {
  router.get('/api/machines', () => ({ json: { status: 1, data: { machines: [...MACHINES.keys()] } } }));

  router.get('/api/machines/:name', (req) => {
    const machine = MACHINES.get(req.params[0] ?? '');
    if (!machine) throw new AppError('NOT_FOUND', `No machine ${req.params[0]}`);
    return { json: { status: 1, name: req.params[0], machine: machineJson(machine) } };
  });

  router.get('/api/actors/:type/:id', async (req) => {
    authenticate(req, deps.jwtSecret);
    const [type = '', rawId = ''] = req.params;
    if (!MACHINES.has(type)) throw new AppError('NOT_FOUND', `No actor type ${type}`);
    const key = normalizeNumber(rawId);
    if (!key) throw new AppError('VALIDATION_FAILED', 'id: expected the customer phone number');
    const record = await deps.host.inspect(type, key);
    if (!record) throw new AppError('NOT_FOUND', `No ${type} actor for ${key}`);
    return {
      json: {
        status: 1,
        data: {
          type,
          id: key,
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
