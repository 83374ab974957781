import { LocalDirectory } from '../../src/actors/cluster/directory.local.ts';
import { directoryContract } from './directory.contract.ts';

directoryContract('local', async (pod) => ({ directory: new LocalDirectory(pod), close: async () => undefined }));
