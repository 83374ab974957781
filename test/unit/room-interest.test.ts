import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORGET_AFTER_MS, RoomInterest, UNSURE_FOR_MS } from '../../src/actors/cluster/room-interest.ts';

/** A RoomInterest on a clock the test moves. */
function interest() {
  const clock = { ms: 1_000_000 };
  return { clock, rooms: new RoomInterest('pod-a', { now: () => clock.ms }) };
}

describe('room interest (which rooms other pods have members in)', () => {
  it('hears a room from its first joined announcement to the last pod that left it', () => {
    const { rooms } = interest();
    assert.equal(rooms.heard('chat-1'), false);
    rooms.apply({ pod: 'pod-b', op: 'joined', rooms: ['chat-1'] });
    rooms.apply({ pod: 'pod-c', op: 'joined', rooms: ['chat-1'] });
    assert.equal(rooms.heard('chat-1'), true);
    rooms.apply({ pod: 'pod-b', op: 'left', rooms: ['chat-1'] });
    assert.equal(rooms.heard('chat-1'), true, 'pod-c still has members');
    rooms.apply({ pod: 'pod-c', op: 'left', rooms: ['chat-1'] });
    assert.equal(rooms.heard('chat-1'), false);
    assert.equal(rooms.size, 0);
  });

  it("ignores its own announcements and a left for a room it never heard of, and answers another pod's hello", () => {
    const { rooms } = interest();
    assert.equal(rooms.apply({ pod: 'pod-a', op: 'joined', rooms: ['chat-1'] }), false);
    assert.equal(rooms.heard('chat-1'), false, 'its own members are the hub’s business');
    rooms.apply({ pod: 'pod-b', op: 'left', rooms: ['chat-9'] });
    assert.equal(rooms.size, 0);
    assert.equal(rooms.apply({ pod: 'pod-b', op: 'hello', rooms: [] }), true);
    assert.equal(rooms.apply({ pod: 'pod-a', op: 'hello', rooms: [] }), false, 'its own hello');
  });

  it('forgets a pod’s rooms it stopped announcing (a dead pod), and keeps those it re-announced', () => {
    const { clock, rooms } = interest();
    rooms.apply({ pod: 'pod-b', op: 'joined', rooms: ['chat-1', 'dashboard'] });
    rooms.apply({ pod: 'pod-c', op: 'rooms', rooms: ['dashboard'] });
    clock.ms += FORGET_AFTER_MS - 1;
    rooms.apply({ pod: 'pod-c', op: 'rooms', rooms: ['dashboard'] });
    rooms.sweep();
    assert.equal(rooms.heard('chat-1'), true, 'not yet forgotten');
    clock.ms += 1;
    rooms.sweep();
    assert.equal(rooms.heard('chat-1'), false);
    assert.equal(rooms.heard('dashboard'), true, 'pod-c re-announced it');
    clock.ms += FORGET_AFTER_MS;
    rooms.sweep();
    assert.equal(rooms.size, 0);
  });

  it('hears every room while it may have missed announcements, then only announced ones', () => {
    const { clock, rooms } = interest();
    rooms.unsure();
    assert.equal(rooms.heard('anything'), true);
    clock.ms += UNSURE_FOR_MS;
    assert.equal(rooms.heard('anything'), false);
  });
});
