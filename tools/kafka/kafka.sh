#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker and controller in one JVM) for development and
# integration tests, run from the Maven Central jars: no Docker, no tarball download.
#
#   tools/kafka/kafka.sh fetch    resolve the broker's runtime jars once (tools/kafka/.cache)
#   tools/kafka/kafka.sh start    fetch if needed, format storage, start, wait until it serves
#   tools/kafka/kafka.sh stop     stop the broker on KAFKA_PORT
#   tools/kafka/kafka.sh status   say whether the broker on KAFKA_PORT is running
#
# Every broker is its own single-node cluster; run a second one with another KAFKA_PORT.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

version="${KAFKA_VERSION:-3.9.2}"
port="${KAFKA_PORT:-19092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
heap_opts="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
start_timeout_s="${KAFKA_START_TIMEOUT_S:-90}"
# Fixed so storage formatted once keeps matching; brokers on different ports never talk to each other.
cluster_id="dG9wb2xvZ3ktbG9jYWwtMQ"

cache="$here/.cache"
libs="$cache/kafka-$version/libs"
data="$root/.data/kafka-$port"
pid_file="$data/kafka.pid"
log_file="$data/kafka.log"
config="$data/server.properties"

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

fetch() {
  if [[ -f "$libs/.complete" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found: Maven 3.8+ is needed to fetch the Kafka jars"
  command -v java >/dev/null || die "java not found: Java 17 is needed to run Kafka"
  echo "kafka.sh: fetching Apache Kafka $version jars from Maven Central" >&2
  local staging="$cache/kafka-$version/libs.partial"
  local fetch_log="$cache/kafka-$version/fetch.log"
  rm -rf "$staging"
  mkdir -p "$staging"
  if ! mvn -B -q -Dstyle.color=never -f "$here/pom.xml" -Dkafka.version="$version" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging" >"$fetch_log" 2>&1; then
    tail -n 30 "$fetch_log" >&2
    rm -rf "$staging"
    die "could not resolve org.apache.kafka:kafka_2.13:$version; Maven's output: $fetch_log"
  fi
  rm -rf "$libs"
  mv "$staging" "$libs"
  touch "$libs/.complete"
}

running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  # A stale pid file may name a process that reused the number: check it is our broker.
  [[ -n "$pid" ]] && ps -p "$pid" -o args= 2>/dev/null | grep -q "kafka.Kafka $config" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_config() {
  mkdir -p "$data/logs"
  cat >"$config" <<EOF
# Written by tools/kafka/kafka.sh on each start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data/logs
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
# Tests join and leave groups constantly; the default 3 s wait for more members only slows them.
group.initial.rebalance.delay.ms=0
# Two cores and a 512 MB heap: few threads, a small cleaner buffer (the default takes 128 MB).
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
background.threads=2
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

format_storage() {
  if [[ -f "$data/logs/meta.properties" ]]; then
    return 0
  fi
  java -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$config" --ignore-formatted \
    >>"$log_file" 2>&1 || die "formatting storage failed; see $log_file"
}

start() {
  local pid
  if pid="$(running_pid)"; then
    echo "kafka.sh: broker already running on 127.0.0.1:$port (pid $pid)"
    return 0
  fi
  if port_open "$port"; then
    die "127.0.0.1:$port is in use by another process"
  fi
  if port_open "$controller_port"; then
    die "controller port 127.0.0.1:$controller_port is in use (set KAFKA_CONTROLLER_PORT)"
  fi
  fetch
  write_config
  : >"$log_file"
  format_storage
  # shellcheck disable=SC2086 # heap options are several words on purpose
  nohup java $heap_opts -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSS" \
    -Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients=warn \
    -cp "$libs/*" kafka.Kafka "$config" >>"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"

  local waited=0
  while ! { port_open "$port" && grep -q "Kafka Server started" "$log_file"; }; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log_file" >&2 || true
      rm -f "$pid_file"
      die "broker exited during start; full log: $log_file"
    fi
    if ((waited >= start_timeout_s * 10)); then
      tail -n 30 "$log_file" >&2 || true
      stop
      die "broker did not start within ${start_timeout_s}s; full log: $log_file"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "kafka.sh: Kafka $version running on 127.0.0.1:$port (pid $pid, log $log_file)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    echo "kafka.sh: no broker running on 127.0.0.1:$port"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 300)); then
      echo "kafka.sh: broker did not stop within 30s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$pid_file"
  echo "kafka.sh: stopped the broker on 127.0.0.1:$port"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$port"; then
      echo "kafka.sh: running on 127.0.0.1:$port (pid $pid, Kafka $version, data $data)"
    else
      echo "kafka.sh: starting or stopping on 127.0.0.1:$port (pid $pid); log $log_file"
    fi
    return 0
  fi
  echo "kafka.sh: not running on 127.0.0.1:$port"
  return 3
}

case "${1:-}" in
  fetch) fetch && echo "kafka.sh: Kafka $version jars in $libs" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: KAFKA_PORT=19092 $0 start|stop|status|fetch" >&2
    exit 2
    ;;
esac
