module.exports = { displayName: 'clickhouse-store', preset: '../../../jest.preset.js', rootDir: '.' };
