module.exports = { displayName: 'graph-store-arango', preset: '../../../jest.preset.js', rootDir: '.' };
