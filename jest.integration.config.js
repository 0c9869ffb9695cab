// Tests against real servers (Kafka, ArangoDB, ClickHouse): `*.integration-spec.ts`, run one file at a time.
const preset = require('./jest.preset.js');

module.exports = {
  ...preset,
  rootDir: '.',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.integration-spec.ts'],
  testTimeout: 180_000,
};
