import { LocalOwnership } from '../../src/actors/cluster/ownership.local.ts';
import { ownershipContract } from './ownership.contract.ts';

ownershipContract('local', async (pod) => ({ ownership: new LocalOwnership(pod), close: async () => undefined }));
