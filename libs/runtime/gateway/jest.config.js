module.exports = { displayName: 'runtime-gateway', preset: '../../../jest.preset.js', rootDir: '.' };
