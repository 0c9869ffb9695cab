module.exports = { displayName: 'intermediary-resolver', preset: '../../jest.preset.js', rootDir: '.' };
