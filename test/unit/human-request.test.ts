/** Which customer words on the discount number ask for a person (English, Hindi, Hinglish), as whole words only. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify } from '../../src/domain/discount-catalogue.ts';
import { asksForPerson } from '../../src/domain/human-request.ts';
import { normalize } from '../../src/domain/discount-catalogue.ts';

const asks = (text: string) => asksForPerson(normalize(text));

describe('asking for a person', () => {
  it('hears English, Hindi and Hinglish requests for a person or a call', () => {
    for (const text of [
      'I want to talk to an AGENT', 'Human please!', 'Can someone call me?', 'please call back', 'speak to customer care',
      'connect me to your executive', 'mujhe baat karni hai', 'Call karo plz', 'kisi insaan se baat karao', 'phone kijiye',
      'मुझे एजेंट से बात करनी है', 'कृपया कॉल करें', 'फ़ोन करो',
    ]) assert.equal(asks(text), true, text);
  });

  it('ignores the same letters inside other words and unrelated text', () => {
    for (const text of ['agentless', 'the call was fine', 'humane', 'Need Discount Code - Pune to Mumbai Airport @ 2199', 'talk', 'call', 'baat', 'किताब', '']) {
      assert.equal(asks(text), false, text);
    }
  });

  it('makes the discount classifier hand over, but leaves the discount buttons their meaning', () => {
    const at = 0;
    assert.equal(classify({ id: 'm', at, kind: 'text', text: 'Please call me' }, [], 'x')?.type, 'HUMAN_REQUESTED');
    assert.equal(classify({ id: 'm', at, kind: 'button', text: "I don't need discount", buttonPayload: "I don't need discount" }, [], 'x')?.type, 'DECLINED');
    assert.equal(classify({ id: 'm', at, kind: 'text', text: 'hello' }, [], 'x')?.type, 'UNRECOGNISED');
  });
});
