// A separate reader process for the multi-process test: loads the TypeScript sources through swc
// (as Jest does), opens the store read-only and reads in a loop while its parent writes.
const Module = require('module');
const fs = require('fs');
const path = require('path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '../../../../../..');
const aliases = require(path.join(root, 'tools/jest/module-name-mapper'))(root);
const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveAlias(request, ...rest) {
  for (const [pattern, target] of Object.entries(aliases)) if (new RegExp(pattern).test(request)) return target;
  return resolve.call(this, request, ...rest);
};
require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const { EmbeddedGraphStore } = require('../embedded-graph-store.ts');
const { networkBucketMerger } = require('@topology/model');

const [dir, bucketMs, fromMs, toMs] = [process.argv[2], ...process.argv.slice(3).map(Number)];

async function main() {
  const store = await EmbeddedGraphStore.open({ dir, layer: 'network', bucketMs, readonly: true }, networkBucketMerger);
  const range = { fromMs, toMs };
  const state = { reads: 0, torn: 0, backwards: 0, markers: new Set(), last: -1 };
  const waiting = [];
  process.on('message', (message) => waiting.push(message));
  for (;;) {
    const edges = await store.listEdges({ granularity: 'app', range });
    const seen = edges.map((e) => e.props.network.bytesSent);
    state.reads++;
    if (seen.length !== 2 || seen[0] !== seen[1]) state.torn++;
    const marker = Math.min(...seen);
    if (marker < state.last) state.backwards++;
    state.last = marker;
    state.markers.add(marker);
    for (let i = waiting.length - 1; i >= 0; i--) {
      const message = waiting[i];
      if (message.type === 'await' && marker >= message.marker) {
        waiting.splice(i, 1);
        process.send({ type: 'seen', marker });
      } else if (message.type === 'finish' && marker >= message.marker) {
        await store.close();
        process.send({ type: 'report', reads: state.reads, torn: state.torn, backwards: state.backwards, distinct: state.markers.size, last: marker });
        process.exit(0);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

main().catch((error) => {
  process.send({ type: 'error', message: String(error && error.stack) });
  process.exit(1);
});
