// Maps the workspace's `@topology/*` import paths (tsconfig.base.json) to their sources for Jest.
const fs = require('fs');
const path = require('path');

module.exports = function moduleNameMapper(root) {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
  const mapper = {};
  for (const [alias, targets] of Object.entries(tsconfig.compilerOptions.paths || {})) {
    const escaped = alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    mapper[`^${escaped}$`] = path.join(root, targets[0]);
  }
  return mapper;
};
