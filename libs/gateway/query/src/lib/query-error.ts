/**
 * Why a query could not be answered. One code per thing a caller can act on; each transport maps
 * the codes once (gRPC status in the gateway runtime) with an exhaustive switch.
 */
export const QUERY_ERROR_CODES = [
  /** The request is malformed or asks for more than the guards allow; retrying it unchanged fails again. */
  'invalid-argument',
  /** Every requested layer answered, and none knows the node. */
  'not-found',
  /** The node could not be found in the layers that answered, and others did not answer. */
  'unavailable',
  /** The whole query ran past its deadline. */
  'deadline-exceeded',
  /** A defect in the gateway itself. */
  'internal',
] as const;
export type QueryErrorCode = (typeof QUERY_ERROR_CODES)[number];

export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QueryError';
  }
}
