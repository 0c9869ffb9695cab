import * as fs from 'fs';
import * as path from 'path';

/** The repository's root: the nearest folder above this file whose package.json is the workspace's. */
export function repositoryRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'service-topology') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no workspace package.json above ${__dirname}`);
    dir = parent;
  }
}
