// Unit tests of every project. Integration tests (real servers) run from jest.integration.config.js.
const { getJestProjectsAsync } = require('@nx/jest');

module.exports = async () => ({
  projects: await getJestProjectsAsync(),
});
