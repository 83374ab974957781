import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KdfGate } from '../../src/actors/agents/kdf-gate.ts';
import { LoginLimiter } from '../../src/actors/agents/login-limiter.ts';
import { AppError } from '../../src/infra/errors.ts';
import { clientAddress } from '../../src/transport/http.ts';

describe('login limiter', () => {
  it('allows 5 failures in the window, then says how long to wait until the window ends', () => {
    const l = new LoginLimiter({ maxFailures: 5, windowMs: 60_000, maxKeys: 100 });
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) {
      assert.equal(l.retryAfterS('user:a', t0 + i), 0);
      l.fail('user:a', t0 + i * 1000);
    }
    assert.equal(l.retryAfterS('user:a', t0 + 5000), 55);
    assert.equal(l.retryAfterS('user:b', t0 + 5000), 0, 'other keys are not affected');
    assert.equal(l.retryAfterS('user:a', t0 + 59_500), 1, 'never 0 while refused');
    assert.equal(l.retryAfterS('user:a', t0 + 60_000), 0, 'the window ended');
  });

  it('forgets a key on clear (a successful login)', () => {
    const l = new LoginLimiter({ maxFailures: 2, windowMs: 60_000, maxKeys: 100 });
    l.fail('k', 0);
    l.fail('k', 1);
    assert.ok(l.retryAfterS('k', 2) > 0);
    l.clear('k');
    assert.equal(l.retryAfterS('k', 2), 0);
  });

  it('holds at most maxKeys windows, dropping expired ones first and then the oldest', () => {
    const l = new LoginLimiter({ maxFailures: 1, windowMs: 1000, maxKeys: 3 });
    l.fail('a', 0);
    l.fail('b', 10);
    l.fail('c', 2000); // a and b expired: swept
    assert.equal(l.size, 1);
    l.fail('d', 2001);
    l.fail('e', 2002);
    l.fail('f', 2003); // full of live windows: the oldest (c) goes
    assert.equal(l.size, 3);
    assert.equal(l.retryAfterS('c', 2004), 0);
    assert.ok(l.retryAfterS('f', 2004) > 0);
    for (let i = 0; i < 10_000; i++) l.fail(`flood${i}`, 3000 + i);
    assert.equal(l.size, 3, 'a flood of keys stays bounded');
  });
});

describe('KDF gate', () => {
  it('runs at most `concurrency` at once, queues `queue` more and refuses the rest with OVERLOADED', async () => {
    const gate = new KdfGate(2, 1);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const work = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => releases.push(r));
        running--;
        return 'done';
      });
    const accepted = [work(), work(), work()];
    await assert.rejects(work(), (e: unknown) => e instanceof AppError && e.code === 'OVERLOADED' && e.retryAfterS === 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(running, 2);
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done']);
    assert.equal(peak, 2);
    assert.equal(gate.busy, 0, 'every slot given back');
  });

  it('gives the slot back when the work fails', async () => {
    const gate = new KdfGate(1, 0);
    await assert.rejects(gate.run(() => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await gate.run(async () => 7), 7);
  });
});

describe('client address behind proxies', () => {
  it('is the peer unless proxies are trusted, then the entry the outermost trusted proxy appended', () => {
    assert.equal(clientAddress('10.0.0.9', '1.2.3.4', 0), '10.0.0.9', 'no trusted proxy: the header is the client\'s own words');
    assert.equal(clientAddress('10.0.0.9', undefined, 1), '10.0.0.9');
    assert.equal(clientAddress('10.0.0.9', 'spoofed, 203.0.113.7', 1), '203.0.113.7');
    assert.equal(clientAddress('10.0.0.9', 'spoofed, 203.0.113.7, 10.0.0.2', 2), '203.0.113.7');
    assert.equal(clientAddress('10.0.0.9', '203.0.113.7', 2), '10.0.0.9', 'fewer entries than proxies: the peer');
  });
});
