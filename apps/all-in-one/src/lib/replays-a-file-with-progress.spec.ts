import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import { fleetMetadata, fleetTruth, flowRecordJson, generateTraffic, planFleet } from '@topology/sim';
import { testConfig } from '../testing/run-all-in-one';
import { AllInOne } from './all-in-one';
import { replayFile } from './replay';

jest.setTimeout(120_000);

describe('replaying a file into a running all-in-one', () => {
  it('streams every line to the HTTP intake, shows progress, and the map gets the edges', async () => {
    const fleet = planFleet({ seed: 7, apps: 24, minutes: 1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'topology-replay-'));
    const file = path.join(dir, 'flows.jsonl');
    const metadataFile = path.join(dir, 'metadata.jsonl');
    fs.writeFileSync(metadataFile, fleetMetadata(fleet).map((e) => JSON.stringify(e)).join('\n') + '\n');
    const out = fs.createWriteStream(file);
    let lines = 0;
    for (const batch of generateTraffic(fleet)) {
      for (const r of batch.flows) {
        out.write(flowRecordJson(r) + '\n');
        lines++;
      }
    }
    await new Promise((resolve) => out.end(resolve));

    const app = await AllInOne.start(testConfig(), { log: () => undefined });
    try {
      const silent = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
      await replayFile({ file: metadataFile, url: `http://${app.httpAddress}`, format: 'metadata', linesPerRequest: 1000, progress: silent });
      await app.drain();
      let progress = '';
      const sink = Object.assign(new Writable({ write: (chunk, _enc, done) => ((progress += String(chunk)), done()) }), { isTTY: false });
      const result = await replayFile({ file, url: `http://${app.httpAddress}`, format: 'canonical', linesPerRequest: 500, progress: sink as unknown as NodeJS.WriteStream });
      expect(result.lines).toBe(lines);
      expect(result.requests).toBe(Math.ceil(lines / 500));
      expect(progress).toMatch(/100\.0%\s+[\d,]+ lines/);
      await app.drain();
      const edges = await app.store.listEdges({ granularity: 'app', range: { fromMs: fleet.startMs, toMs: fleet.endMs + 60_000 } });
      const want = fleetTruth(fleet).appEdges.map((e) => `${e.src} -> ${e.dst}`).sort();
      expect(edges.map((e) => `${e.src} -> ${e.dst}`).sort()).toEqual(want);
    } finally {
      await app.stop();
    }
  });
});
