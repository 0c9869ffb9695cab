import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { repositoryRoot } from './repository';

/**
 * A compiled copy of the workspace to start the apps from, as `npm run build` makes `dist/`: when
 * `TOPOLOGY_DIST` names one it is used as is; otherwise the sources are compiled once per test
 * process (swc, well under a second) into a folder of its own under `.data/`, so that a build
 * someone runs meanwhile cannot pull `dist/` from under running apps.
 */
export function builtApps(): string {
  const given = process.env['TOPOLOGY_DIST'];
  if (given !== undefined && given !== '') return path.resolve(given);
  const root = repositoryRoot();
  // Already running from `npm run build`'s output (a bench): start the apps from the same build.
  const dist = path.join(root, 'dist');
  if (__dirname.startsWith(dist + path.sep) && fs.existsSync(path.join(dist, 'apps'))) return dist;
  const out = path.join(root, '.data', `it-dist-${process.pid}`);
  if (fs.existsSync(path.join(out, '.complete'))) return out;
  removeBuildsOfEndedProcesses(path.join(root, '.data'));
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  const config = JSON.parse(fs.readFileSync(path.join(root, 'tools/build/swc.json'), 'utf8')) as { jsc: Record<string, unknown> };
  config.jsc['baseUrl'] = root;
  config.jsc['paths'] = tsconfig.compilerOptions.paths;
  const swcrc = path.join(out, '.swcrc.json');
  fs.writeFileSync(swcrc, JSON.stringify(config));
  execFileSync(path.join(root, 'node_modules/.bin/swc'), ['apps', 'libs', 'tools', '--out-dir', out, '--config-file', swcrc, '--copy-files', '--quiet'], { cwd: root, stdio: 'inherit' });
  fs.writeFileSync(path.join(out, '.complete'), '');
  process.once('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  return out;
}

/** Test processes that were killed leave their builds behind: remove those whose process is gone. */
function removeBuildsOfEndedProcesses(dataDir: string): void {
  if (!fs.existsSync(dataDir)) return;
  for (const name of fs.readdirSync(dataDir)) {
    const match = /^it-dist-(\d+)$/.exec(name);
    if (match === null || isAlive(Number(match[1]))) continue;
    fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}
