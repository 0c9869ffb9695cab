module.exports = { displayName: 'trace-aggregate', preset: '../../../jest.preset.js', rootDir: '.' };
