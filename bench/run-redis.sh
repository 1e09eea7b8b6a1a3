#!/usr/bin/env bash
# Measures the samples' cache-server against redis-server under the same redis-benchmark
# command lines, in the same run: each server pinned to CPU 0, redis-benchmark on CPU 1.
# Needs Debian's redis-server and redis-tools. Loopback only; servers stopped by PID.
# usage: bench/run-redis.sh [RUNS] ["CACHE-SERVER ARGS"...]
#   Each extra argument is one more cache-server variant measured in the same runs, e.g.
#   bench/run-redis.sh 3 "--spin 0". REQUESTS (default 200000) sets redis-benchmark's -n.
set -euo pipefail
runs=${1:-3}
shift || true
variants=("$@")
requests=${REQUESTS:-200000}
repo=$(cd "$(dirname "$0")/.." && pwd)
dotnet build -c Release "$repo/EventLoop.Samples" >/dev/null
server="$repo/EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples"
port=16379

wait_port() {
  for _ in $(seq 1 100); do
    if redis-cli -p "$1" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

bench() { # name pid port
  local name=$1 port=$3
  for p in 1 16; do
    local line
    line=$(timeout -k 5 120 taskset -c 1 redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -c 50 -n "$requests" -P "$p" --csv 2>/dev/null | grep -E '^"(SET|GET)"')
    while IFS= read -r row; do
      local test rps
      test=$(echo "$row" | cut -d, -f1 | tr -d '"')
      rps=$(echo "$row" | cut -d, -f2 | tr -d '"')
      printf '%s\t%s\t%s\t-P %s\t%s\n' "$run" "$name" "$test" "$p" "$rps"
    done <<< "$line"
  done
}

printf 'run\tserver\ttest\tpipeline\trequests_per_s\n'
for run in $(seq 1 "$runs"); do
  port=$((port + 1))
  taskset -c 0 redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize no >/dev/null 2>&1 &
  rpid=$!
  wait_port "$port"
  bench redis-server "$rpid" "$port"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true

  port=$((port + 1))
  taskset -c 0 "$server" cache-server --port "$port" >/dev/null 2>&1 &
  cpid=$!
  wait_port "$port"
  bench eventloop-cache "$cpid" "$port"
  kill "$cpid"; wait "$cpid" 2>/dev/null || true

  for variant in "${variants[@]}"; do
    port=$((port + 1))
    # shellcheck disable=SC2086 # the variant is a list of arguments
    taskset -c 0 "$server" cache-server --port "$port" $variant >/dev/null 2>&1 &
    cpid=$!
    wait_port "$port"
    bench "eventloop-cache $variant" "$cpid" "$port"
    kill "$cpid"; wait "$cpid" 2>/dev/null || true
  done
done
