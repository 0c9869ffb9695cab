import { status } from '@grpc/grpc-js';
import { QueryErrorCode } from '@topology/query';

/** The one place query errors become gRPC status codes. */
export function grpcStatusOf(code: QueryErrorCode): status {
  switch (code) {
    case 'invalid-argument':
      return status.INVALID_ARGUMENT;
    case 'not-found':
      return status.NOT_FOUND;
    case 'unavailable':
      return status.UNAVAILABLE;
    case 'deadline-exceeded':
      return status.DEADLINE_EXCEEDED;
    case 'internal':
      return status.INTERNAL;
  }
}
