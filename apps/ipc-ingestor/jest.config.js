module.exports = { displayName: 'ipc-ingestor', preset: '../../jest.preset.js', rootDir: '.' };
