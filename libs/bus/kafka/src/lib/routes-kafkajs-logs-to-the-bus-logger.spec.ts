import { logLevel } from 'kafkajs';
import { atLeast, kafkajsLogCreator, type BusLogger, type BusLogLevel } from './bus-logger';

function recordingLogger(): BusLogger & { lines: [BusLogLevel, string, Record<string, unknown>][] } {
  const lines: [BusLogLevel, string, Record<string, unknown>][] = [];
  return { lines, log: (level, message, fields) => void lines.push([level, message, fields]) };
}

describe('kafkajsLogCreator', () => {
  it('passes kafkajs entries on with their level, namespace and fields', () => {
    const logger = recordingLogger();
    const log = kafkajsLogCreator(logger)(logLevel.WARN);
    log({ namespace: 'Consumer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', message: 'Crash: KafkaJSNumberOfRetriesExceeded', groupId: 'g' } });
    log({ namespace: 'Producer', level: logLevel.WARN, label: 'WARN', log: { timestamp: 't', message: 'slow', broker: 'b:1' } });

    expect(logger.lines).toEqual([
      ['error', '[kafkajs Consumer] Crash: KafkaJSNumberOfRetriesExceeded', { groupId: 'g' }],
      ['warn', '[kafkajs Producer] slow', { broker: 'b:1' }],
    ]);
  });

  it('lowers failed responses and rebalance notices that kafkajs handles itself to info, which warn filters out', () => {
    const logger = recordingLogger();
    const log = kafkajsLogCreator(atLeast('warn', logger))(logLevel.WARN);
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', message: 'Response Heartbeat(key: 12, version: 3)', error: 'The group is rebalancing' } });
    log({ namespace: 'Runner', level: logLevel.WARN, label: 'WARN', log: { timestamp: 't', message: 'The group is rebalancing, re-joining' } });
    log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', message: 'Failed to send messages: This server is not the leader for that topic-partition' } });
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 't', message: 'Connection error: connect ECONNREFUSED' } });

    expect(logger.lines.map(([level, message]) => [level, message])).toEqual([
      ['warn', '[kafkajs Producer] Failed to send messages: This server is not the leader for that topic-partition'],
      ['error', '[kafkajs Connection] Connection error: connect ECONNREFUSED'],
    ]);
  });
});
