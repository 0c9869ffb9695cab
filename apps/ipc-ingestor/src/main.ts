import 'reflect-metadata';
import { runApp } from '@topology/runtime-pipeline';
import { loadIpcIngestorConfig } from './lib/ipc-ingestor.config';
import { startIpcIngestor } from './lib/ipc-ingestor-app';

runApp('ipc-ingestor', async () => startIpcIngestor(loadIpcIngestorConfig()));
