import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AgentTokens } from '../../src/actors/agents/agent-tokens.ts';
import { AgentsStore } from '../../src/actors/agents/agents-store.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

/** An AgentsStore whose reads are counted and can be held. */
function countingStore() {
  const agents = new AgentsStore(new MemoryStore());
  let reads = 0;
  let gate: Promise<void> | undefined;
  const standing = agents.standing.bind(agents);
  agents.standing = async (username: string) => {
    reads++;
    const result = await standing(username);
    await gate;
    return result;
  };
  return { agents, reads: () => reads, hold: (p: Promise<void> | undefined) => (gate = p) };
}

const identity = (sub: string, tv?: number, role: 'agent' | 'admin' = 'agent') => ({ sub, role, exp: Math.floor(Date.now() / 1000) + 60, ...(tv === undefined ? {} : { tv }) });

describe('account token check', () => {
  it('passes tokens without tv unread, and checks account tokens against version, role and disabled', async () => {
    const s = countingStore();
    const tokens = new AgentTokens(s.agents, { ttlMs: 60_000 });
    assert.equal(await tokens.isCurrent(identity('anyone')), true);
    assert.equal(s.reads(), 0, 'an external token costs no read');
    assert.equal(await tokens.isCurrent(identity('nobody', 1)), false, 'no such account');
    await s.agents.create({ username: 'ravi', name: 'Ravi', role: 'agent', password_hash: 'x' });
    tokens.forget('ravi');
    assert.equal(await tokens.isCurrent(identity('ravi', 1)), true);
    assert.equal(await tokens.isCurrent(identity('ravi', 2)), false);
    assert.equal(await tokens.isCurrent(identity('ravi', 1, 'admin')), false, 'a role the account does not have');
  });

  it('reads an account once per TTL however many ask, and again after forget or expiry', async () => {
    const s = countingStore();
    await s.agents.create({ username: 'ravi', name: 'Ravi', role: 'agent', password_hash: 'x' });
    const tokens = new AgentTokens(s.agents, { ttlMs: 200 });
    await Promise.all(Array.from({ length: 20 }, () => tokens.isCurrent(identity('ravi', 1))));
    assert.equal(s.reads(), 1);
    await s.agents.update('ravi', { disabled: true }, true);
    assert.equal(await tokens.isCurrent(identity('ravi', 1)), true, 'cached until forgotten or expired');
    tokens.forget('ravi');
    assert.equal(await tokens.isCurrent(identity('ravi', 1)), false);
    assert.equal(s.reads(), 2);
    await new Promise((r) => setTimeout(r, 250));
    await tokens.isCurrent(identity('ravi', 2));
    assert.equal(s.reads(), 3, 'read again after the TTL');
  });

  it('does not keep a read that started before a forget (it may have seen the old account)', async () => {
    const s = countingStore();
    await s.agents.create({ username: 'ravi', name: 'Ravi', role: 'agent', password_hash: 'x' });
    const tokens = new AgentTokens(s.agents, { ttlMs: 60_000 });
    let release!: () => void;
    s.hold(new Promise<void>((r) => (release = r)));
    const stale = tokens.isCurrent(identity('ravi', 1)); // reads the enabled account, then waits
    await new Promise((r) => setImmediate(r));
    await s.agents.update('ravi', { disabled: true }, true);
    tokens.forget('ravi');
    s.hold(undefined);
    release();
    assert.equal(await stale, true, 'the read in flight answers what it saw');
    assert.equal(await tokens.isCurrent(identity('ravi', 1)), false, 'but it was not cached: the next check reads the disabled account');
  });
});
