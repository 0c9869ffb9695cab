import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';

export type BusLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where the Kafka adapter and the kafkajs client write their logs. */
export interface BusLogger {
  log(level: BusLogLevel, message: string, fields: Record<string, unknown>): void;
}

const rank: Record<BusLogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** One line per entry on stderr: `<time> <level> [kafka <namespace>] message {fields}`. */
export function consoleBusLogger(minimum: BusLogLevel = 'warn'): BusLogger {
  return {
    log(level, message, fields) {
      if (rank[level] > rank[minimum]) return;
      const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}\n`);
    },
  };
}

/** Passes on only entries at `minimum` or more severe. */
export function atLeast(minimum: BusLogLevel, logger: BusLogger): BusLogger {
  return {
    log(level, message, fields) {
      if (rank[level] <= rank[minimum]) logger.log(level, message, fields);
    },
  };
}

export function kafkajsLogLevel(level: BusLogLevel): KafkaLogLevel {
  switch (level) {
    case 'error':
      return KafkaLogLevel.ERROR;
    case 'warn':
      return KafkaLogLevel.WARN;
    case 'info':
      return KafkaLogLevel.INFO;
    case 'debug':
      return KafkaLogLevel.DEBUG;
  }
}

function busLogLevel(level: KafkaLogLevel): BusLogLevel {
  if (level <= KafkaLogLevel.ERROR) return 'error';
  if (level === KafkaLogLevel.WARN) return 'warn';
  if (level === KafkaLogLevel.INFO) return 'info';
  return 'debug';
}

/**
 * Routes kafkajs's own log entries (already filtered by the client's log level) to a BusLogger.
 * kafkajs logs every failed response at error level, including "rebalance in progress" on each
 * member's heartbeat during an ordinary rebalance; those it handles itself are lowered to info, and
 * produce attempts it retries to warn, so that error stays worth reading. A failure kafkajs cannot
 * handle still reaches the caller as a rejected promise.
 */
export function kafkajsLogCreator(logger: BusLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log as { message: string; timestamp: string; logger?: string };
      const handledByKafkajs =
        (namespace === 'Connection' && message.startsWith('Response ')) ||
        (namespace === 'Runner' && message.startsWith('The group is rebalancing'));
      // Logged before each retry of a produce request (stale leader after a topic was created, …).
      const retriedByKafkajs = namespace === 'Producer' && message.startsWith('Failed to send messages');
      let busLevel = busLogLevel(level);
      if (handledByKafkajs && level <= KafkaLogLevel.WARN) busLevel = 'info';
      else if (retriedByKafkajs && level === KafkaLogLevel.ERROR) busLevel = 'warn';
      logger.log(busLevel, `[kafkajs ${namespace}] ${message}`, fields);
    };
}
