import 'reflect-metadata';
import { runApp } from '@topology/runtime-pipeline';
import { loadIntermediaryResolverConfig } from './lib/intermediary-resolver.config';
import { startIntermediaryResolver } from './lib/intermediary-resolver-app';

runApp('intermediary-resolver', async () => startIntermediaryResolver(loadIntermediaryResolverConfig()));
