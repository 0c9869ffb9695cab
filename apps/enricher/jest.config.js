module.exports = { displayName: 'enricher', preset: '../../jest.preset.js', rootDir: '.' };
