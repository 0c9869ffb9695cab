module.exports = { displayName: 'runtime-pipeline', preset: '../../../jest.preset.js', rootDir: '.' };
