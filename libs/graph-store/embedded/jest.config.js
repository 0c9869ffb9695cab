module.exports = { displayName: 'graph-store-embedded', preset: '../../../jest.preset.js', rootDir: '.' };
