import type { z } from 'zod';
import { AppError } from '../infra/errors.ts';

/** Parses `value` with `schema`, or throws VALIDATION_FAILED naming each bad field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
  throw new AppError('VALIDATION_FAILED', detail);
}
