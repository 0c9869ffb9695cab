import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ChdbExecutor } from './chdb-executor';
import { describeRequestStore } from './testing/request-store-scenarios';

jest.setTimeout(60_000);

// One data directory for the file: chdb holds one per process at a time, and a restart reopens it.
const dir = mkdtempSync(join(tmpdir(), 'request-store-'));

describeRequestStore('chdb (in process), with its data directory reopened for a restart', async () => new ChdbExecutor(dir));
