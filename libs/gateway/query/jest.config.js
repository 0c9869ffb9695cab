module.exports = { displayName: 'query', preset: '../../../jest.preset.js', rootDir: '.' };
