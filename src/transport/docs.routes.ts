import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RouteDoc } from './api-schemas.ts';
import { accountRouteDocs } from './accounts.routes.ts';
import { buildAsyncApi } from './asyncapi.ts';
import { consoleChatRouteDocs } from './console-chat.routes.ts';
import { consoleRouteDocs } from './console.routes.ts';
import { dashboardRouteDocs } from './dashboard.routes.ts';
import { deskRouteDocs } from './desk.routes.ts';
import { reportRouteDocs } from './reports.routes.ts';
import { discountRouteDocs } from './discount.routes.ts';
import { inboxRouteDocs } from './inbox.routes.ts';
import { healthRouteDocs } from './health.routes.ts';
import type { HttpRouter } from './http.ts';
import { machineRouteDocs } from './machines.routes.ts';
import { buildOpenApi } from './openapi.ts';
import { outboundRouteDocs } from './outbound.routes.ts';
import { mediaRouteDocs } from './media.routes.ts';
import { webhookAdminRouteDocs } from './webhook-admin.routes.ts';
import { webhookRouteDocs } from './webhook.routes.ts';

/** The interface documents' version (the package's). */
export const API_VERSION = '0.1.0';

const jsonDoc = z.record(z.string(), z.unknown());
/** The documents' registered media types: JSON, but not the API's `{"status": …}` bodies. */
const OPENAPI_TYPE = 'application/vnd.oai.openapi+json';
const ASYNCAPI_TYPE = 'application/vnd.aai.asyncapi+json';

export const docsRouteDocs: RouteDoc[] = [
  { method: 'get', path: '/api/openapi.json', tags: ['docs'], summary: 'This OpenAPI 3.1 document', responses: { 200: { description: 'The HTTP interface (a document, not a `status` body)', schema: jsonDoc, contentType: OPENAPI_TYPE } } },
  { method: 'get', path: '/api/asyncapi.json', tags: ['docs'], summary: 'The AsyncAPI 3 document of the agent WebSocket', responses: { 200: { description: 'The WebSocket interface (a document, not a `status` body)', schema: jsonDoc, contentType: ASYNCAPI_TYPE } } },
  { method: 'get', path: '/api/docs', tags: ['docs'], summary: 'Both documents as one HTML page', responses: { 200: { description: 'A self-contained HTML page', contentType: 'text/html' } } },
];

/** Every documented HTTP route, in the order app.ts registers their files. */
export const ROUTE_DOCS: readonly RouteDoc[] = [
  ...healthRouteDocs, ...webhookAdminRouteDocs, ...webhookRouteDocs, ...dashboardRouteDocs, ...machineRouteDocs, ...discountRouteDocs, ...inboxRouteDocs, ...outboundRouteDocs, ...mediaRouteDocs, ...accountRouteDocs, ...consoleChatRouteDocs, ...deskRouteDocs, ...reportRouteDocs, ...docsRouteDocs, ...consoleRouteDocs,
];

export interface ApiDocuments {
  openapi: Record<string, unknown>;
  asyncapi: Record<string, unknown>;
  html: string;
  csp: string;
}

export function buildApiDocuments(): ApiDocuments {
  const openapi = buildOpenApi(ROUTE_DOCS, { version: API_VERSION });
  const asyncapi = buildAsyncApi({ version: API_VERSION });
  const { html, csp } = renderDocsPage(openapi, asyncapi);
  return { openapi, asyncapi, html, csp };
}

/** `GET /api/openapi.json`, `GET /api/asyncapi.json`, `GET /api/docs`: no auth, built once here. */
export function registerDocsRoutes(router: HttpRouter): void {
  const docs = buildApiDocuments();
  const openapi = JSON.stringify(docs.openapi);
  const asyncapi = JSON.stringify(docs.asyncapi);
  const cache = { 'cache-control': 'no-cache' };
  router.get('/api/openapi.json', () => ({ text: openapi, contentType: `${OPENAPI_TYPE};version=3.1`, headers: cache }));
  router.get('/api/asyncapi.json', () => ({ text: asyncapi, contentType: `${ASYNCAPI_TYPE};version=${String(docs.asyncapi.asyncapi)}`, headers: cache }));
  router.get('/api/docs', () => ({ text: docs.html, contentType: 'text/html; charset=utf-8', headers: { ...cache, 'content-security-policy': docs.csp, 'referrer-policy': 'no-referrer' } }));
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:0 auto;padding:1rem 1.5rem;color:#1b1f24}
h1,h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem}h3{margin:1.4rem 0 .3rem;font-size:1.05rem}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:28rem}
.m{display:inline-block;min-width:3.5rem;font-weight:600}.get{color:#0969da}.post{color:#1a7f37}.send{color:#8250df}.receive{color:#bc4c00}
table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
details{margin:.2rem 0}summary{cursor:pointer}nav a{margin-right:1rem}`;

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pre = (v: unknown): string => `<pre>${esc(JSON.stringify(v, null, 2))}</pre>`;
const details = (label: string, v: unknown): string => `<details><summary>${esc(label)}</summary>${pre(v)}</details>`;

/** Both documents rendered server-side: no script at all, one inline style allowed by its hash. */
export function renderDocsPage(openapi: Record<string, any>, asyncapi: Record<string, any>): { html: string; csp: string } {
  const parts: string[] = [];
  parts.push(`<h1>${esc(openapi.info.title)} <small>${esc(openapi.info.version)}</small></h1>`);
  parts.push('<nav><a href="#http">HTTP</a><a href="#ws">WebSocket</a><a href="/api/openapi.json">openapi.json</a><a href="/api/asyncapi.json">asyncapi.json</a></nav>');
  parts.push(`<p>${esc(openapi.info.description)}</p><h2 id="http">HTTP</h2>`);
  for (const [path, ops] of Object.entries(openapi.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      parts.push(`<h3 id="${esc(op.operationId)}"><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3><p>${esc(op.summary)}${op.description ? ` — ${esc(op.description)}` : ''}</p>`);
      const auth = (op.security as Record<string, unknown>[]).flatMap((s) => Object.keys(s));
      parts.push(`<p>Auth: ${auth.length ? esc(auth.join(' or ')) : 'none'}</p>`);
      if (op.parameters) {
        parts.push('<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>');
        for (const p of op.parameters) parts.push(`<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${esc(JSON.stringify(p.schema))}</code>${p.description ? `<br>${esc(p.description)}` : ''}</td></tr>`);
        parts.push('</table>');
      }
      if (op.requestBody) parts.push(details('request body', op.requestBody.content['application/json'].schema));
      for (const [status, r] of Object.entries(op.responses as Record<string, any>)) {
        const [type, media] = Object.entries(r.content as Record<string, any>)[0]!;
        const label = `${status} ${type} — ${r.description}`;
        parts.push(media.schema ? details(label, media.schema) : `<p>${esc(label)}</p>`);
      }
    }
  }
  parts.push(`<h2 id="ws">${esc(asyncapi.info.title)}</h2><p>${esc(asyncapi.info.description)}</p>`);
  for (const [name, ch] of Object.entries(asyncapi.channels as Record<string, any>)) parts.push(`<p><code>${esc(ch.address)}</code> (${esc(name)}): ${esc(ch.description)}</p>`);
  const seen = new Set<string>();
  for (const op of Object.values(asyncapi.operations as Record<string, any>)) {
    if (seen.has(op.title)) continue; // the same events on both channels
    seen.add(op.title);
    const msg = (r: { $ref: string }) => asyncapi.components.messages[r.$ref.split('/').pop()!];
    const kind = op.action === 'receive' ? 'request' : 'push';
    parts.push(`<h3 id="ws-${esc(op.title)}"><span class="m ${esc(op.action)}">${kind}</span> <code>${esc(op.title)}</code></h3><p>${esc(op.summary)}</p>`);
    for (const r of op.messages) parts.push(details(`${msg(r).name} frame`, msg(r).payload));
    for (const r of op.reply?.messages ?? []) parts.push(details(`${msg(r).name} frame`, msg(r).payload));
  }
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  const csp = `default-src 'none'; style-src 'sha256-${styleHash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Smart Chat interface</title><style>${STYLE}</style></head><body>${parts.join('\n')}</body></html>`;
  return { html, csp };
}
