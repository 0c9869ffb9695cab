import { describeBusContract } from './testing/bus-contract';
import { InProcessBus } from './in-process-bus';

describeBusContract('InProcessBus', async () => new InProcessBus({ retryBackoffMs: () => 0 }), {
  timeoutMs: 5_000,
  namePrefix: 'unit',
});
