/**
 * Checks what the server sends against the interface documents it serves:
 * every HTTP response a test's `fetch` receives from a test app (hooked by
 * `startTestApp`) and every frame an `AgentClient` receives. A response or
 * frame the documents do not describe is a violation; `startTestApp`'s
 * `stop()` and `AgentClient.close()` fail with the violations they saw.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { buildApiDocuments } from '../../src/transport/docs.routes.ts';

const addFormats = addFormatsModule as unknown as (ajv: unknown) => void;

type Json = Record<string, any>;

const docs = buildApiDocuments();
export const openapi = docs.openapi as Json;
export const asyncapi = docs.asyncapi as Json;

const ajv2020 = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv2020);
const ajv07 = new Ajv({ strict: false, allErrors: true });
addFormats(ajv07);

const compiled = new Map<object, ValidateFunction>();
function validator(schema: object, draft07 = false): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = (draft07 ? ajv07 : ajv2020).compile(schema)));
  return v;
}

const errorsOf = (v: ValidateFunction) => (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`).join('; ');

const notFound = validator({ type: 'object', properties: { status: { const: 0 }, error: { type: 'object', properties: { code: { const: 'NOT_FOUND' }, message: { type: 'string' } }, required: ['code', 'message'] } }, required: ['status', 'error'] });

interface PathMatcher {
  path: string;
  re: RegExp;
}
const paths: PathMatcher[] = Object.keys(openapi.paths).map((path) => ({
  path,
  re: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

/** The OpenAPI operation of `method` + `pathname`, if documented. */
export function operationFor(method: string, pathname: string): { path: string; op: Json } | undefined {
  const m = paths.find((p) => p.re.test(pathname));
  const op = m ? openapi.paths[m.path][method.toLowerCase() === 'head' ? 'get' : method.toLowerCase()] : undefined;
  return m && op ? { path: m.path, op } : undefined;
}

/** Why an HTTP response does not match the document, or undefined when it does. */
export function checkHttp(method: string, pathname: string, status: number, contentType: string, body: string): string | undefined {
  const where = `${method} ${pathname} → ${status}`;
  const found = operationFor(method, pathname);
  if (!found) {
    // Unmatched paths and methods answer the router's fallback 404, which is no operation (the document's description says so).
    if (status === 404 && (method === 'HEAD' || notFound(safeJson(body)))) return undefined;
    return `${where}: no documented operation`;
  }
  if (method === 'HEAD') {
    if (status === 405 && found.op.description?.includes('HEAD answers 405')) return undefined;
    return found.op.responses[String(status)] ? undefined : `${where}: status not documented`;
  }
  const response = found.op.responses[String(status)];
  if (!response) return `${where}: status not documented for ${found.path}`;
  const content = response.content as Record<string, { schema?: object }>;
  const type = contentType.split(';')[0]!.trim();
  const media = content[type] ?? content['*/*'];
  if (!media) return `${where}: content-type ${type} not documented (${Object.keys(content).join(', ')})`;
  if (!media.schema) return undefined;
  const parsed = safeJson(body);
  if (parsed === INVALID) return `${where}: body is not JSON`;
  const v = validator(media.schema);
  return v(parsed) ? undefined : `${where}: ${errorsOf(v)} in ${body.slice(0, 300)}`;
}

const INVALID = Symbol('invalid');
function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

const messages = asyncapi.components.messages as Record<string, { name: string; payload: object }>;
const byName = new Map(Object.values(messages).map((m) => [m.name, m.payload]));

/** Why a frame the server sent does not match the AsyncAPI document, or undefined when it does. */
export function checkFrame(frame: Json): string | undefined {
  const event = String(frame?.event);
  const payload = event === 'error' ? byName.get('error') : byName.get(`${event}.reply`) ?? byName.get(event);
  if (!payload) return `frame ${event}: not a documented reply, error or push`;
  const v = validator(payload, true);
  return v(frame) ? undefined : `frame ${event}: ${errorsOf(v)} in ${JSON.stringify(frame).slice(0, 300)}`;
}

/** Every violation seen in this process, for tests that drive flows and check the lot. */
export const violations: string[] = [];

const watched = new Map<string, string[]>();
let hooked = false;

/**
 * From now on, every `fetch` to `baseUrl` has its response checked; the
 * returned list collects the violations (also added to `violations`).
 */
export function watchHttp(baseUrl: string): string[] {
  const list: string[] = [];
  watched.set(baseUrl, list);
  if (!hooked) {
    hooked = true;
    const original = globalThis.fetch;
    globalThis.fetch = async function checkedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
      const res = await original(input, init);
      const url = new URL(input instanceof Request ? input.url : String(input));
      const seen = watched.get(url.origin);
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      if (seen && method !== 'OPTIONS') {
        const body = method === 'HEAD' ? '' : await res.clone().text().catch(() => '');
        const problem = checkHttp(method, url.pathname, res.status, res.headers.get('content-type') ?? '', body);
        if (problem) {
          seen.push(problem);
          violations.push(problem);
        }
      }
      return res;
    };
  }
  return list;
}

export function unwatchHttp(baseUrl: string): void {
  watched.delete(baseUrl);
}
