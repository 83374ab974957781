import { MemoryMediaStorage } from '../../src/infra/media/media-storage.memory.ts';
import { mediaStoreContract } from './media-store.contract.ts';

mediaStoreContract('memory', async () => ({ storage: new MemoryMediaStorage(), close: async () => {} }));
