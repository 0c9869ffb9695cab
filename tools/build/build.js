// Compiles apps, libs and tools to dist/ with swc, rewriting the `@topology/*` import paths of
// tsconfig.base.json to relative ones, so built apps run with plain `node`.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '../..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'swc.json'), 'utf8'));
config.jsc.baseUrl = root;
config.jsc.paths = tsconfig.compilerOptions.paths;
const resolved = path.join(root, 'dist', '.swcrc.json');
fs.mkdirSync(path.dirname(resolved), { recursive: true });
fs.writeFileSync(resolved, JSON.stringify(config));
const dirs = ['apps', 'libs', 'tools'].filter((d) => fs.existsSync(path.join(root, d)));
execFileSync(
  path.join(root, 'node_modules/.bin/swc'),
  [...dirs, '--out-dir', 'dist', '--config-file', resolved, '--copy-files', '--quiet'],
  { cwd: root, stdio: 'inherit' },
);
