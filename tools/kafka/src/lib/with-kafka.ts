/** Brokers of the Kafka that integration tests run against (`npm run test:integration` starts one). */
export const testBrokers: string | undefined = process.env['KAFKA_BROKERS'] || undefined;

/** `describe` when a broker is configured, else a skipped `describe` that says why. */
export function describeWithKafka(name: string, body: () => void): void {
  if (testBrokers === undefined) {
    describe.skip(`${name} (skipped: KAFKA_BROKERS is not set; run \`npm run test:integration\`, which starts a local broker)`, body);
    return;
  }
  describe(name, body);
}

/** A topic and group prefix no other run on the same brokers uses. */
export function runPrefix(what: string): string {
  return `it-${what}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.`;
}
