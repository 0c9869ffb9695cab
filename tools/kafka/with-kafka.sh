#!/usr/bin/env bash
# Runs a command against a local Kafka broker: starts one on KAFKA_PORT (default 19092) unless
# KAFKA_BROKERS already names one, exports KAFKA_BROKERS, and stops the broker it started on exit.
# Exits with the command's exit code.
#
#   tools/kafka/with-kafka.sh npx jest --config jest.integration.config.js
set -uo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 <command...>" >&2
  exit 2
fi

if [[ -n "${KAFKA_BROKERS:-}" ]]; then
  exec "$@"
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export KAFKA_PORT="${KAFKA_PORT:-19092}"

# A broker someone else started on this port is used and left running.
started_here=false
if ! bash "$here/kafka.sh" status >/dev/null; then
  bash "$here/kafka.sh" start || exit 1
  started_here=true
fi

stop_broker() {
  if [[ "$started_here" == true ]]; then
    bash "$here/kafka.sh" stop >/dev/null || true
  fi
}
trap stop_broker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
"$@"
exit $?
