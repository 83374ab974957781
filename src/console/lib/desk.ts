/** Canned responses and the label catalogue, as the server lists them (any agent reads; admins edit on the Desk page). */
import { signal } from '@preact/signals';
import { getJson } from './api.ts';

export interface CannedResponse {
  shortcode: string;
  title: string;
  text: string;
  updated_by: string;
  updated_at: string;
}

export interface CatalogueLabel {
  name: string;
  color: string;
  description: string;
}

export const cannedResponses = signal<CannedResponse[]>([]);
export const labelCatalogue = signal<CatalogueLabel[]>([]);

export async function loadDesk(): Promise<void> {
  const [canned, labels] = await Promise.allSettled([
    getJson<{ data: CannedResponse[] }>('/api/canned-responses'),
    getJson<{ data: CatalogueLabel[] }>('/api/labels'),
  ]);
  if (canned.status === 'fulfilled') cannedResponses.value = canned.value.data;
  if (labels.status === 'fulfilled') labelCatalogue.value = labels.value.data;
}

export interface CannedVariables {
  customer_name: string;
  customer_number: string;
  agent_name: string;
}

/** The response's text with its variables filled in (a variable with no value becomes empty, never a literal `{{…}}`). */
export function expandCanned(text: string, vars: CannedVariables): string {
  return text.replace(/\{\{\s*(customer_name|customer_number|agent_name)\s*\}\}/g, (_m, name: keyof CannedVariables) => vars[name] ?? '');
}

/** The `/word` being typed at the end of the reply box, if any (what suggestions match). */
export function shortcodeQuery(text: string): string | null {
  const m = /(?:^|\s)\/([a-z0-9_-]*)$/.exec(text);
  return m ? m[1]! : null;
}

export function cannedMatches(query: string): CannedResponse[] {
  return cannedResponses.value.filter((c) => c.shortcode.startsWith(query) || c.title.toLowerCase().includes(query)).slice(0, 8);
}

/** A readable text colour on a label's background. */
export function inkOn(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const lum = (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  return lum > 0.6 ? '#1b1f24' : '#ffffff';
}

export function labelColor(name: string): string {
  return labelCatalogue.value.find((l) => l.name === name)?.color ?? '#57606a';
}
