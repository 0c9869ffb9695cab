/**
 * Whether a call failed, and the status class its errors are counted under. Classes are what an
 * operator compares across reporters: `4xx`/`5xx` for HTTP, the gRPC code name (`UNAVAILABLE`) for
 * gRPC, Spectator's `ipc.status` (`timeout`), and `error.type` when nothing else says more.
 */

export type Side = 'client' | 'server';

/** gRPC status codes by number, as `rpc.grpc.status_code` and Istio's `grpc_response_status` carry them. */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The codes a gRPC server counts as its own failure (the semantic conventions' server span status). */
const GRPC_SERVER_ERRORS = new Set(['UNKNOWN', 'DEADLINE_EXCEEDED', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS']);

export interface CallOutcome {
  error: boolean;
  /** Set when `error`. */
  statusClass: string | undefined;
}

const SUCCESS: CallOutcome = Object.freeze({ error: false, statusClass: undefined });

/** A gRPC code given as a name (`UNAVAILABLE`, any case) or a number (`14`); undefined if neither. */
export function grpcCodeName(code: string | number | undefined): string | undefined {
  if (code === undefined || code === '') return undefined;
  if (typeof code === 'number') return Number.isInteger(code) ? GRPC_CODE_NAMES[code] : undefined;
  const n = Number(code);
  if (Number.isInteger(n) && code.trim() !== '') return GRPC_CODE_NAMES[n];
  return code.toUpperCase();
}

/**
 * HTTP: a client fails on 4xx and 5xx, a server only on 5xx (as the semantic conventions set span
 * status). Without a status code, `error.type` alone marks a failure (a timeout, a refused connection).
 */
export function httpOutcome(side: Side, statusCode: number | undefined, errorType: string | undefined): CallOutcome {
  if (statusCode !== undefined && statusCode > 0) {
    const failed = statusCode >= (side === 'client' ? 400 : 500) || errorType !== undefined;
    return failed ? { error: true, statusClass: `${Math.floor(statusCode / 100)}xx` } : SUCCESS;
  }
  return errorType !== undefined ? { error: true, statusClass: errorType } : SUCCESS;
}

/** gRPC: a client fails on every code but OK, a server on the codes that are its own fault. */
export function grpcOutcome(side: Side, code: string | undefined, errorType: string | undefined): CallOutcome {
  if (code !== undefined) {
    const failed = side === 'client' ? code !== 'OK' : GRPC_SERVER_ERRORS.has(code);
    if (failed || (errorType !== undefined && code !== 'OK')) return { error: true, statusClass: code };
    return errorType !== undefined ? { error: true, statusClass: errorType } : SUCCESS;
  }
  return errorType !== undefined ? { error: true, statusClass: errorType } : SUCCESS;
}

/** Other RPC systems: the conventions set `error.type` exactly when a call failed. */
export function rpcOutcome(status: string | undefined, errorType: string | undefined): CallOutcome {
  return errorType !== undefined ? { error: true, statusClass: status ?? errorType } : SUCCESS;
}

/** Spectator: `ipc.result` says whether it failed, `ipc.status` how. */
export function spectatorOutcome(result: string | undefined, status: string | undefined): CallOutcome {
  const failed = result === 'failure' || (result === undefined && status !== undefined && status !== 'success');
  return failed ? { error: true, statusClass: status ?? 'failure' } : SUCCESS;
}
