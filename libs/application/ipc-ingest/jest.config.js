module.exports = { displayName: 'ipc-ingest', preset: '../../../jest.preset.js', rootDir: '.' };
