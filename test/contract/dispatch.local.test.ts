import { LocalDispatcher } from '../../src/actors/cluster/dispatch.local.ts';
import { LocalOwnership } from '../../src/actors/cluster/ownership.local.ts';
import { dispatchContract } from './dispatch.contract.ts';
import { startPod } from './dispatch.fixtures.ts';

dispatchContract('local', async (store) => {
  const ownership = new LocalOwnership('solo');
  return startPod({ pod: 'solo', store, ownership, dispatcher: (host) => new LocalDispatcher(host, ownership.shards) });
});
