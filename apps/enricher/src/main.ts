import 'reflect-metadata';
import { runApp } from '@topology/runtime-pipeline';
import { loadEnricherConfig } from './lib/enricher.config';
import { startEnricher } from './lib/enricher-app';

runApp('enricher', async () => startEnricher(loadEnricherConfig()));
