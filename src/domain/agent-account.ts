/** The rules of an agent account's fields, shared by the admin API, the CLI and the configuration (ADMIN_USERNAME, ADMIN_PASSWORD). */
import { z } from 'zod';

/** Lower-case letters, digits, `.`, `_`, `-`; 3–32 characters, starting with a letter or digit. It becomes the token's `sub` and the `sender` of the agent's messages. */
export const usernameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, 'lower-case letters, digits, . _ - (3-32 characters, starting with a letter or digit)');
/** At least 10 characters; at most 256, so the hash's input stays bounded. */
export const passwordSchema = z.string().min(10, 'at least 10 characters').max(256, 'at most 256 characters');
export const roleSchema = z.enum(['agent', 'admin']);
export const displayNameSchema = z.string().trim().min(1).max(100);
