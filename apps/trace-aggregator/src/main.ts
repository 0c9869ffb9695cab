import 'reflect-metadata';
import { runApp } from '@topology/runtime-pipeline';
import { loadTraceAggregatorConfig } from './lib/trace-aggregator.config';
import { startTraceAggregator } from './lib/trace-aggregator-app';

runApp('trace-aggregator', async () => startTraceAggregator(loadTraceAggregatorConfig()));
