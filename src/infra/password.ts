/**
 * Password hashing with scrypt (node:crypto, built into Node: no native
 * package to build or keep up to date). Each hash carries its own random salt
 * and its parameters — `scrypt$ln=15,r=8,p=3$<salt>$<key>` (base64url) — so the
 * cost can be raised later without breaking stored hashes. The KDF runs on
 * libuv's thread pool (async `scrypt`), never on the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** OWASP's scrypt floor for N=2^15: r=8, p=3 (32 MiB per hash, ~3 CPU-N units). */
export const SCRYPT_PARAMS = { ln: 15, r: 8, p: 3 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on stored parameters: a corrupt or hostile hash cannot ask for unbounded memory or time. */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;

export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/** A new hash of `password` with a fresh salt and `params` (the current ones by default). */
export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return encode(params, salt, key);
}

/** True when `password` matches `stored`; false for a wrong password or a hash this module cannot read. Constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = decode(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

/**
 * A hash that no password matches but that costs exactly what a real one
 * does: checked for unknown usernames, so they take as long as wrong passwords.
 */
export function unmatchableHash(params: ScryptParams = SCRYPT_PARAMS): string {
  return encode(params, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
}

function derive(password: string, salt: Buffer, { ln, r, p }: ScryptParams, length: number): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) => {
    // maxmem: scrypt needs 128·N·r bytes (plus a little); Node's default cap is exactly 32 MiB.
    scrypt(password.normalize('NFC'), salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function encode({ ln, r, p }: ScryptParams, salt: Buffer, key: Buffer): string {
  return `scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

function decode(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const m = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,128})\$([A-Za-z0-9_-]{22,128})$/.exec(stored);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const name of ['ln', 'r', 'p'] as const) {
    const [min, max] = LIMITS[name];
    if (params[name] < min || params[name] > max) return undefined;
  }
  return { params, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}
