module.exports = { displayName: 'intermediary', preset: '../../../jest.preset.js', rootDir: '.' };
