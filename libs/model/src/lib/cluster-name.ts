/**
 * Cluster names follow the common `app-stack-detail-vNNN` convention: the app is everything before
 * the first dash, an optional stack and free-form detail follow, and a trailing `vNNN` is the push
 * (deployment) version. `checkout-prod-canary-v012` is app `checkout`, stack `prod`, detail `canary`,
 * version 12. A name without dashes is its own app.
 */
export interface ClusterName {
  app: string;
  stack?: string;
  detail?: string;
  version?: number;
}

const VERSION = /^v(\d{3,})$/;

export function parseClusterName(cluster: string): ClusterName {
  const parts = cluster.split('-');
  const app = parts[0] ?? cluster;
  let version: number | undefined;
  const last = parts[parts.length - 1];
  if (parts.length > 1 && last !== undefined && VERSION.test(last)) {
    version = Number(last.slice(1));
    parts.pop();
  }
  const stack = parts[1] || undefined;
  const detail = parts.length > 2 ? parts.slice(2).join('-') : undefined;
  return { app: app || cluster, stack, detail, version };
}
