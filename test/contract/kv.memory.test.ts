import { MemoryKv } from '../../src/infra/kv/kv.memory.ts';
import { kvContract } from './kv.contract.ts';

kvContract('memory', async () => new MemoryKv());
