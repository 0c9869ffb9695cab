module.exports = { displayName: 'bus-kafka', preset: '../../../jest.preset.js', rootDir: '.' };
