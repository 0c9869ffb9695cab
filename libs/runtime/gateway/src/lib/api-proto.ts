import * as protoLoader from '@grpc/proto-loader';
import { API_PROTO_FILE, protoDir } from '@topology/contracts';

export const TOPOLOGY_PACKAGE = 'topology.v1';
export const TOPOLOGY_SERVICE = 'topology.v1.TopologyService';

/** The one set of loader options the server and the client share; `api-messages.ts` describes what they produce. */
export function apiLoaderOptions(): protoLoader.Options {
  return { keepCase: false, longs: Number, enums: String, defaults: true, arrays: true, objects: true, oneofs: true, includeDirs: [protoDir()] };
}

let loaded: protoLoader.PackageDefinition | undefined;

/** The parsed `topology.v1` API, loaded once per process. */
export function apiPackageDefinition(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(API_PROTO_FILE, apiLoaderOptions());
  return loaded;
}
