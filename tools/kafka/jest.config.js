module.exports = { displayName: 'kafka-tools', preset: '../../jest.preset.js', rootDir: '.' };
