module.exports = { displayName: 'graph-store-contract', preset: '../../../jest.preset.js', rootDir: '.' };
