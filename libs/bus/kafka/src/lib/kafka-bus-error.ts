import { KafkaJSError } from 'kafkajs';

export type KafkaBusErrorCode =
  | 'unreachable'
  | 'timeout'
  | 'unknown-topic'
  | 'invalid-topic'
  | 'not-authorized'
  | 'message-too-large'
  | 'unsupported'
  | 'kafka';

/** A Kafka failure explained in one sentence, with the kafkajs error kept as `cause`. */
export class KafkaBusError extends Error {
  constructor(
    readonly code: KafkaBusErrorCode,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'KafkaBusError';
  }
}

const unreachable = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
]);

const explanations: Record<KafkaBusErrorCode, string> = {
  unreachable: 'no broker could be reached; is Kafka running and are the broker addresses right?',
  timeout: 'the broker did not answer in time',
  'unknown-topic': 'the topic does not exist (create it with ensureTopics, or allow auto-creation on the broker)',
  'invalid-topic': 'the broker rejected the topic settings (partitions, replication factor or config)',
  'not-authorized': 'the broker refused the operation for this client',
  'message-too-large': 'a message batch is larger than the broker accepts (message.max.bytes)',
  unsupported: 'the broker does not support a protocol version kafkajs needs',
  kafka: 'Kafka returned an error',
};

/** Turns what kafkajs throws into a KafkaBusError naming the action and the brokers. */
export function explainKafkaError(error: unknown, action: string, brokers: readonly string[]): KafkaBusError {
  if (error instanceof KafkaBusError) return error;
  const root = rootCause(error);
  const code = classify(root);
  const detail = root instanceof Error ? root.message : String(root);
  return new KafkaBusError(code, `Kafka ${action} failed: ${explanations[code]} (brokers ${brokers.join(',')}): ${detail}`, { cause: error });
}

/** kafkajs wraps the real failure in retry errors (`cause`) and aggregates (`errors`). */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 10; depth++) {
    if (!(current instanceof Error)) return current;
    const wrapped = current as Error & { errors?: unknown[] };
    if (wrapped.cause instanceof Error) current = wrapped.cause;
    else if (Array.isArray(wrapped.errors) && wrapped.errors[0] instanceof Error) current = wrapped.errors[0];
    else return current;
  }
  return current;
}

function classify(error: unknown): KafkaBusErrorCode {
  if (!(error instanceof Error)) return 'kafka';
  if (unreachable.has(error.name)) return 'unreachable';
  if (error.name === 'KafkaJSRequestTimeoutError' || error.name === 'KafkaJSTimeout' || error.name === 'KafkaJSLockTimeout') return 'timeout';
  if (error.name === 'KafkaJSServerDoesNotSupportApiKey') return 'unsupported';
  if (error.name === 'KafkaJSSASLAuthenticationError') return 'not-authorized';
  if (error.name === 'KafkaJSCreateTopicError') return 'invalid-topic';
  const type = error instanceof KafkaJSError ? (error as KafkaJSError & { type?: string }).type : undefined;
  switch (type) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return 'unknown-topic';
    case 'INVALID_TOPIC_EXCEPTION':
    case 'INVALID_PARTITIONS':
    case 'INVALID_REPLICATION_FACTOR':
    case 'INVALID_CONFIG':
    case 'POLICY_VIOLATION':
      return 'invalid-topic';
    case 'TOPIC_AUTHORIZATION_FAILED':
    case 'GROUP_AUTHORIZATION_FAILED':
    case 'CLUSTER_AUTHORIZATION_FAILED':
    case 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED':
      return 'not-authorized';
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
      return 'message-too-large';
    case 'UNSUPPORTED_VERSION':
      return 'unsupported';
    case 'REQUEST_TIMED_OUT':
      return 'timeout';
  }
  return 'kafka';
}
