import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import { storeContract } from './store.contract.ts';

storeContract('memory', async () => new MemoryStore());
