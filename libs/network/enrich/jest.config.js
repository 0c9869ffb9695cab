module.exports = { displayName: 'enrich', preset: '../../../jest.preset.js', rootDir: '.' };
