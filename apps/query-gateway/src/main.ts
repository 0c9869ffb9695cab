import 'reflect-metadata';
import { runApp } from '@topology/runtime-pipeline';
import { loadQueryGatewayConfig } from './lib/query-gateway.config';
import { startQueryGateway } from './lib/query-gateway-app';

runApp('query-gateway', async () => startQueryGateway(loadQueryGatewayConfig()));
