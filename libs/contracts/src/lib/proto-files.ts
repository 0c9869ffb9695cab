import * as fs from 'fs';
import * as path from 'path';

/**
 * The repository's `proto/` folder, found by walking up from this file, so the same code works
 * from sources, from `dist/` and from a container image that copies `proto/` beside `dist/`.
 * `TOPOLOGY_PROTO_DIR` overrides it.
 */
export function protoDir(): string {
  const fromEnv = process.env['TOPOLOGY_PROTO_DIR'];
  if (fromEnv) return fromEnv;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, 'topology', 'v1', 'topology.proto'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`proto/ not found above ${__dirname}; set TOPOLOGY_PROTO_DIR`);
    dir = parent;
  }
}

export const PIPELINE_PROTO_FILES = [
  'topology/pipeline/v1/flow.proto',
  'topology/pipeline/v1/metadata.proto',
  'topology/pipeline/v1/aggregates.proto',
];

export const API_PROTO_FILE = 'topology/v1/topology.proto';
