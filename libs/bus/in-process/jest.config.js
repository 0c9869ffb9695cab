module.exports = { displayName: 'bus-in-process', preset: '../../../jest.preset.js', rootDir: '.' };
