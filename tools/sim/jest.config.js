module.exports = { displayName: 'sim', preset: '../../jest.preset.js', rootDir: '.' };
