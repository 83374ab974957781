import { isUtf8 } from 'node:buffer';
import { AppError } from '../infra/errors.ts';

/**
 * The first reading of bytes a client sent: URL segments and JSON bodies or
 * frames. Everything here throws a coded AppError, never a bare exception, so
 * a hostile byte is a 400 and never an exit.
 */

/** Deepest nesting of client JSON we keep: Meta's webhooks need ~12; stored documents are copied recursively. */
export const MAX_JSON_DEPTH = 32;

/** A percent-encoded URL segment, decoded; BAD_ENCODING for malformed escapes or UTF-8. */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('BAD_ENCODING', `Malformed percent-encoding in the URL: ${JSON.stringify(raw.slice(0, 64))}`);
  }
}

/**
 * Parses client JSON (`what` names it in errors: "Body", "Frame") and checks
 * it with `assertSafeJson`; BAD_JSON when the bytes are not UTF-8 JSON.
 */
export function parseClientJson(bytes: Buffer | string, what: string): unknown {
  const value = parseJson(bytes, what);
  assertSafeJson(value, what);
  return value;
}

/** JSON.parse of client bytes; BAD_JSON when they are not UTF-8 JSON. */
export function parseJson(bytes: Buffer | string, what: string): unknown {
  if (typeof bytes !== 'string' && !isUtf8(bytes)) throw new AppError('BAD_JSON', `${what} is not UTF-8`);
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  if (text.length === 0) throw new AppError('BAD_JSON', `${what} is empty; expected JSON`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('BAD_JSON', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * VALIDATION_FAILED when a string or key is not well-formed Unicode (a lone
 * surrogate, which JSON's `\u` escapes allow and no WhatsApp message can
 * carry), when nesting is deeper than MAX_JSON_DEPTH, or for the keys that
 * reach an object's prototype when copied (`__proto__`, and
 * `constructor.prototype`, as secure-json-parse refuses).
 */
export function assertSafeJson(root: unknown, what: string): void {
  // Walked without recursion (depth is what is being checked); leaves are checked where they are met, and a
  // path is spelled out only for an error: every webhook and frame goes through here.
  const stack: Place[] = [];
  const visit = (value: unknown, depth: number, parent: Place | undefined, key: string | number | undefined): void => {
    if (typeof value === 'string') {
      if (!value.isWellFormed()) throw invalid(what, pathOf(parent, key), 'text is not well-formed Unicode (lone surrogate)');
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const place: Place = { value, depth, parent, key };
    if (depth >= MAX_JSON_DEPTH) throw invalid(what, pathOf(place), `nested deeper than ${MAX_JSON_DEPTH} levels`);
    stack.push(place);
  };
  visit(root, 0, undefined, undefined);
  for (let place = stack.pop(); place; place = stack.pop()) {
    const { value, depth } = place;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], depth + 1, place, i);
      continue;
    }
    for (const key of Object.keys(value)) {
      if (!key.isWellFormed()) throw invalid(what, pathOf(place), 'a key is not well-formed Unicode (lone surrogate)');
      if (key === '__proto__') throw invalid(what, pathOf(place, key), 'key not allowed');
      const child = (value as Record<string, unknown>)[key];
      if (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) {
        throw invalid(what, `${pathOf(place, key)}.prototype`, 'key not allowed');
      }
      visit(child, depth + 1, place, key);
    }
  }
}

/** An object or array met on the walk, and where it hangs (its path is spelled out only for an error). */
interface Place {
  value: object;
  depth: number;
  parent: Place | undefined;
  key: string | number | undefined;
}

/** `a.b[2].c`: the path of `key` in `place` (or of `place` itself), as the error messages give it. */
function pathOf(place: Place | undefined, key?: string | number): string {
  const keys: (string | number)[] = key === undefined ? [] : [key];
  for (let p = place; p && p.key !== undefined; p = p.parent) keys.push(p.key);
  let path = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i]!;
    path = typeof k === 'number' ? `${path}[${k}]` : path ? `${path}.${k}` : k;
  }
  return path;
}

function invalid(what: string, path: string, problem: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path ? path.slice(0, 200) : what.toLowerCase()}: ${problem}`);
}
