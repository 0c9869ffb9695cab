export {
  InProcessBus,
  defaultInProcessBusConfig,
  timerRetryScheduler,
  type InProcessBusConfig,
  type InProcessBusCounter,
  type RetryScheduler,
} from './lib/in-process-bus';
export { describeBusContract, type BusContractOptions } from './lib/testing/bus-contract';
export { ReceivedMessages, bytes, text } from './lib/testing/received-messages';
