/** The FR-7 channel routing table: data checked at start-up, resolved against configuration. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHANNELS } from '../../src/domain/channels.ts';
import { PINBOT_ENDPOINTS, PinbotEndpoints, checkPinbotEndpoints, mediaDownloadPath, overrideVar, type PinbotEndpoint } from '../../src/domain/pinbot-endpoints.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { pinbotSettings } from '../../src/infra/pinbot/settings.ts';

const origins = { v1v2: 'https://partners.pinbot.ai', v3: 'https://partnersv1.pinbot.ai' };

describe('Pinbot routing table', () => {
  it('is the spec table: v2 send types on PINBOT_ORIGIN with key 1, v3 ids on PINBOT_V3_ORIGIN with key 2', () => {
    const d = new PinbotEndpoints({ origins, keys: { WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2' } });
    const row = (t: string) => {
      const r = d.resolve(t);
      return [r.url, r.apiKey, r.wanumber ?? null];
    };
    assert.deepEqual(row('discount'), ['https://partners.pinbot.ai/v2/messages', 'k1', '919638120888']);
    assert.deepEqual(row('chat'), ['https://partners.pinbot.ai/v2/messages', 'k1', '919099039188']);
    assert.deepEqual(row('customer_chat'), ['https://partners.pinbot.ai/v2/messages', 'k1', '919638106888']);
    assert.deepEqual(row('srdp_chat'), ['https://partners.pinbot.ai/v2/messages', 'k1', '919586924247']);
    assert.deepEqual(row('vendor_chat'), ['https://partnersv1.pinbot.ai/v3/723917954136046/messages', 'k2', null]);
    assert.deepEqual(row('customer_chat_new'), ['https://partnersv1.pinbot.ai/v3/687960561072454/messages', 'k2', null]);
    assert.deepEqual(row('dco_new'), ['https://partnersv1.pinbot.ai/v3/807735062422776/messages', 'k2', null]);
    assert.deepEqual(row('vendor_alt'), ['https://partnersv1.pinbot.ai/v3/848476011681897/messages', 'k2', null]);
    assert.deepEqual(row('srdp_alt'), ['https://partnersv1.pinbot.ai/v3/827966120400721/messages', 'k2', null]);
    assert.equal(mediaDownloadPath('1003383421387256'), '/v1/downloadmedia/1003383421387256');
  });

  it('routes every webhook channel, and sends each from that channel’s business number', () => {
    const d = new PinbotEndpoints({ origins, keys: {} });
    for (const c of CHANNELS) assert.equal(d.resolve(c.sendType).businessNumber, c.businessNumber, c.id);
  });

  it('without keys every route is dry-run; a per-channel key overrides the shared one', () => {
    const none = new PinbotEndpoints({ origins, keys: {} });
    assert.ok(PINBOT_ENDPOINTS.every((r) => none.resolve(r.sendType).apiKey === undefined));
    const some = new PinbotEndpoints({ origins, keys: { WA_API_KEY_2: 'k2' }, overrides: { vendor_alt: 'alt-key' } });
    assert.equal(some.resolve('vendor_alt').apiKey, 'alt-key');
    assert.equal(some.resolve('vendor_chat').apiKey, 'k2');
    assert.equal(some.resolve('chat').apiKey, undefined);
    assert.throws(() => some.resolve('fax'), /no Pinbot route for send type "fax"/);
  });

  it('reads origins, shared keys and every per-channel override from configuration', () => {
    const env: Record<string, string> = { PINBOT_ORIGIN: 'http://127.0.0.1:9/', PINBOT_V3_ORIGIN: 'http://127.0.0.1:10', WA_API_KEY_1: 'one' };
    for (const r of PINBOT_ENDPOINTS) env[overrideVar(r.sendType)] = `key-${r.sendType}`;
    const d = new PinbotEndpoints(pinbotSettings(loadConfig(env)));
    for (const r of PINBOT_ENDPOINTS) assert.equal(d.resolve(r.sendType).apiKey, `key-${r.sendType}`, overrideVar(r.sendType));
    assert.equal(d.resolve('chat').url, 'http://127.0.0.1:9/v2/messages');
    assert.equal(d.resolve('dco_new').url, 'http://127.0.0.1:10/v3/807735062422776/messages');
    assert.equal(new PinbotEndpoints(pinbotSettings(loadConfig({ WA_API_KEY_1: 'one' }))).resolve('discount').apiKey, 'one');
  });

  it('refuses a malformed table at start-up, naming the row', () => {
    const bad = (routes: PinbotEndpoint[], pattern: RegExp) => assert.throws(() => checkPinbotEndpoints(routes), pattern);
    const ok = PINBOT_ENDPOINTS.slice();
    assert.doesNotThrow(() => checkPinbotEndpoints(ok));
    bad([...ok, { ...ok[0]! }], /discount appears twice/);
    bad(ok.map((r) => (r.sendType === 'dco_new' ? { ...r, path: '/v2/messages' } : r)), /dco_new path: \/v2\/messages is not a v3 messages path/);
    bad(ok.map((r) => (r.sendType === 'chat' ? { ...r, businessNumber: '9099039188' } : r)), /chat businessNumber/);
    bad(ok.filter((r) => r.sendType !== 'srdp_alt'), /no route for the channel send type srdp_alt/);
  });
});
