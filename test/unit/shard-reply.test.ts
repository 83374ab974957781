/** A failure answered across pods keeps its registered code: the caller's client gets what the owner's would have. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureReply, replyError } from '../../src/actors/cluster/shard-streams.ts';
import { ActorConflictError, MailboxFullError } from '../../src/actors/runtime/actor-host.ts';
import { AppError, toAppError } from '../../src/infra/errors.ts';
import { StoreError } from '../../src/infra/store/store.ts';

/** Through the wire: serialised as the reply is, then revived on the caller's pod. */
const across = (err: unknown) => replyError(JSON.parse(JSON.stringify(failureReply(err))) as ReturnType<typeof failureReply>);

describe('failure replies between pods', () => {
  it('keep the registered code of every error class, with its public message', () => {
    for (const err of [new StoreError('unavailable', 'connect ECONNREFUSED 10.1.2.3:27017'), new MailboxFullError('mailbox of chat/1 is full'), new ActorConflictError('chat/1 moved'), new AppError('NOT_FOUND', 'No chat x')]) {
      const here = toAppError(err);
      const there = toAppError(across(err));
      assert.equal(there.code, here.code, err.name);
      assert.equal(there.message, here.message, `${err.name}: the public message, never the internal one`);
    }
    assert.doesNotMatch(toAppError(across(new StoreError('unavailable', 'connect ECONNREFUSED 10.1.2.3:27017'))).message, /10\.1\.2\.3/);
  });

  it('leave an unexpected fault unexpected (INTERNAL to clients), its own message kept for the caller log', () => {
    const revived = across(new Error('store refused doomed#1'));
    assert.equal(toAppError(revived).code, 'INTERNAL');
    assert.equal(revived.message, 'store refused doomed#1');
  });
});
