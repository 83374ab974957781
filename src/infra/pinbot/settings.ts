import { PINBOT_ENDPOINTS, overrideVar, type PinbotSettings } from '../../domain/pinbot-endpoints.ts';
import type { Config } from '../config.ts';

/** The Pinbot origins and keys of a configuration, for `PinbotEndpoints`. */
export function pinbotSettings(config: Config): PinbotSettings {
  const env = config as unknown as Record<string, unknown>;
  const overrides: Record<string, string> = {};
  for (const r of PINBOT_ENDPOINTS) {
    const key = env[overrideVar(r.sendType)];
    if (typeof key === 'string' && key !== '') overrides[r.sendType] = key;
  }
  return {
    origins: { v1v2: config.PINBOT_ORIGIN, v3: config.PINBOT_V3_ORIGIN },
    keys: { WA_API_KEY_1: config.WA_API_KEY_1, WA_API_KEY_2: config.WA_API_KEY_2 },
    overrides,
  };
}
