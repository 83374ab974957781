import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentReplySendType, channelById, CHANNELS, CUSTOMER_TYPES, roomUpdateEvent, type CustomerType } from '../../src/domain/channels.ts';

describe('channels', () => {
  it('lists every webhook channel of the contract with its customer type, business number and send type', () => {
    assert.deepEqual(CHANNELS.map((c) => [c.id, c.customerType, c.businessNumber, c.sendType, c.automated]), [
      ['9638120888', 'Customer', '919638120888', 'discount', true],
      ['9099039188', 'Partner', '919099039188', 'chat', false],
      ['8690247247', 'Partner', '918690247247', 'dco_new', false],
      ['8000247247', 'Customer', '919638106888', 'customer_chat_new', false],
      ['9726724247', 'Vendor', '919726724247', 'vendor_chat', false],
      ['9726524247', 'Vendor', '919726524247', 'vendor_alt', false],
      ['9586924247', 'SRDP', '919586924247', 'srdp_chat', false],
      ['9081812247', 'SRDP', '919081812247', 'srdp_alt', false],
    ]);
  });

  it('has one channel per identifier and per business number', () => {
    assert.equal(new Set(CHANNELS.map((c) => c.id)).size, CHANNELS.length);
    assert.equal(new Set(CHANNELS.map((c) => c.businessNumber)).size, CHANNELS.length);
  });

  it('marks only the discount channel as automated', () => {
    assert.deepEqual(CHANNELS.filter((c) => c.automated).map((c) => c.id), ['9638120888']);
  });

  it('finds a channel by its webhook identifier', () => {
    assert.deepEqual(channelById('9099039188'), {
      id: '9099039188', customerType: 'Partner', businessNumber: '919099039188', sendType: 'chat', automated: false,
    });
    assert.equal(channelById('8000247247')?.businessNumber, '919638106888');
    assert.equal(channelById('9586924247')?.customerType, 'SRDP');
  });

  it('finds no channel for an unknown identifier, the business number or an app id', () => {
    for (const id of ['', '1234567890', '919099039188', 'com.oneway.driver', ' 9099039188', 'constructor']) {
      assert.equal(channelById(id), undefined, id);
    }
  });

  it('cannot be changed at run time', () => {
    assert.throws(() => (CHANNELS as Channel[]).push(CHANNELS[0] as Channel));
    assert.throws(() => { (CHANNELS[0] as { sendType: string }).sendType = 'chat'; });
    assert.equal(channelById('9638120888')?.sendType, 'discount');
  });

  it('knows the four customer types', () => {
    assert.deepEqual(CUSTOMER_TYPES, ['Partner', 'Customer', 'Vendor', 'SRDP']);
    for (const c of CHANNELS) assert.ok(CUSTOMER_TYPES.includes(c.customerType), c.id);
  });

  it('pushes the FR-3 dashboard event for each customer type', () => {
    assert.deepEqual(CUSTOMER_TYPES.map(roomUpdateEvent), ['room_update', 'room_update_customer', 'room_update_vendor', 'room_update_srdp']);
  });

  it('sends agent replies with the FR-3 send type for each customer type', () => {
    assert.deepEqual(CUSTOMER_TYPES.map(agentReplySendType), ['chat', 'customer_chat_new', 'vendor_chat', 'srdp_chat']);
  });

  it('treats a customer type from outside the type as a customer', () => {
    for (const t of ['partner', '', 'toString', '__proto__'] as unknown as CustomerType[]) {
      assert.equal(agentReplySendType(t), 'customer_chat_new', String(t));
      assert.equal(roomUpdateEvent(t), 'room_update_customer', String(t));
    }
  });
});

type Channel = (typeof CHANNELS)[number];
