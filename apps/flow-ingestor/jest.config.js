module.exports = { displayName: 'flow-ingestor', preset: '../../jest.preset.js', rootDir: '.' };
