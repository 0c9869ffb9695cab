export { KafkaBus, type KafkaBusCounter } from './lib/kafka-bus';
export {
  defaultKafkaBusConfig,
  resolveKafkaBusConfig,
  type KafkaBusConfig,
  type KafkaBusConfigInput,
  type TopicDefaults,
} from './lib/kafka-bus-config';
export { KafkaBusError, explainKafkaError, type KafkaBusErrorCode } from './lib/kafka-bus-error';
export { consoleBusLogger, kafkajsLogCreator, kafkajsLogLevel, type BusLogger, type BusLogLevel } from './lib/bus-logger';
export { toBusMessages, withTimeout } from './lib/kafka-messages';
