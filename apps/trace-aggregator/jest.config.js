module.exports = { displayName: 'trace-aggregator', preset: '../../jest.preset.js', rootDir: '.' };
