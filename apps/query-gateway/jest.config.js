module.exports = { displayName: 'query-gateway', preset: '../../jest.preset.js', rootDir: '.' };
