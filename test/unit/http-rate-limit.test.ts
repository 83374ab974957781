import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpRateLimit } from '../../src/transport/http-rate-limit.ts';

describe('HTTP rate limit per client address', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('allows a burst of perMinute, then says how long to wait, refilling evenly over the minute', () => {
    const c = clock();
    const limit = new HttpRateLimit('admin requests', { perMinute: 6, maxAddresses: 100, now: c.now });
    for (let i = 0; i < 6; i++) assert.equal(limit.take('10.0.0.1'), 0, `request ${i + 1}`);
    assert.equal(limit.take('10.0.0.1'), 10, 'one request every 10 s');
    assert.equal(limit.take('10.0.0.2'), 0, 'another address has its own budget');
    c.advance(5_000);
    assert.equal(limit.take('10.0.0.1'), 5);
    c.advance(5_000);
    assert.equal(limit.take('10.0.0.1'), 0, 'a request again after 10 s');
    assert.equal(limit.take('10.0.0.1'), 10);
  });

  it('keeps memory bounded: full buckets are forgotten, and at most maxAddresses are tracked', () => {
    const c = clock();
    const limit = new HttpRateLimit('admin requests', { perMinute: 2, maxAddresses: 100, now: c.now });
    for (let i = 0; i < 250; i++) limit.take(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(limit.size, 100, 'capped');
    c.advance(60_000);
    limit.take('192.168.0.1');
    assert.equal(limit.size, 1, 'every bucket that refilled is dropped as a new address arrives');
    // The address dropped to make room starts afresh (a full bucket): never a refusal it did not earn.
    assert.equal(limit.take('192.168.0.1'), 0);
    assert.ok(limit.take('192.168.0.1') > 0);
  });
});
