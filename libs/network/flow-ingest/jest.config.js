module.exports = { displayName: 'flow-ingest', preset: '../../../jest.preset.js', rootDir: '.' };
