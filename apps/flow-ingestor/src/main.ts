import 'reflect-metadata';
import { runApp } from '@topology/runtime-pipeline';
import { loadFlowIngestorConfig } from './lib/flow-ingestor.config';
import { startFlowIngestor } from './lib/flow-ingestor-app';

runApp('flow-ingestor', async () => startFlowIngestor(loadFlowIngestorConfig()));
