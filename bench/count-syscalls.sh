#!/usr/bin/env bash
# System calls per round trip, counted by the kernel (perf's raw_syscalls:sys_enter, every
# thread of the server process) while ../shared/bench's loadgen drives scenario B (100
# connections x 64 B ping-pong), server on CPU 0, load on CPU 1: the C epoll server, the C
# io_uring server, and the samples' echo-server on the epoll and io_uring back ends.
# usage: bench/count-syscalls.sh [CONNS] [MSGSIZE]     (needs perf; run as root or with
#        kernel.perf_event_paranoid <= 1). Wrap in `flock /tmp/bench.lock ...` on a shared machine.
# The count window is the middle 3 s of a 6 s measure; round trips/s come from loadgen's own
# window, so the ratio is syscalls/s over round trips/s. perf itself slows the server a little.
set -euo pipefail
conns=${1:-100}
size=${2:-64}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
kit=$(mktemp -d)/bench
cp -r "$shared" "$kit"
chmod -R u+w "$kit"
"$kit/build.sh" >/dev/null
gcc -O2 -Wall -o "$kit/bin/uring-echo" "$repo/bench/uring-echo.c"
dotnet build -c Release "$repo/EventLoop.Samples" >/dev/null
server="$repo/EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples"
set -m
port=29500
printf '%-20s %12s %14s %14s\n' server "rt/s" "syscalls/s" "syscalls/rt"
while read -r name cmd; do
  port=$((port + 1))
  cmd=${cmd//\{port\}/$port}
  # shellcheck disable=SC2086
  taskset -c 0 $cmd > /dev/null 2>&1 &
  spid=$!
  for _ in $(seq 1 300); do ss -Hltn "sport = :$port" | grep -q LISTEN && break; sleep 0.1; done
  out=$(mktemp)
  taskset -c 1 "$kit/bin/loadgen" -c "$conns" -s "$size" -w 2 -d 6 127.0.0.1 "$port" > "$out" 2>/dev/null &
  lpid=$!
  sleep 3.5
  calls=$(perf stat -x, -e raw_syscalls:sys_enter -p "$spid" -- sleep 3 2>&1 | awk -F, '/raw_syscalls/ {print $1}')
  wait "$lpid"
  kill -TERM -- "-$spid" 2>/dev/null || kill -TERM "$spid"
  wait "$spid" 2>/dev/null || true
  rt=$(grep -o '\brt_per_s=[^ ]*' "$out" | cut -d= -f2)
  rm -f "$out"
  printf '%-20s %12s %14.0f %14.2f\n' "$name" "$rt" "$(echo "$calls / 3" | bc -l)" "$(echo "$calls / 3 / $rt" | bc -l)"
done <<LIST
c-epoll $kit/bin/echo_epoll {port}
c-uring $kit/bin/uring-echo {port}
eventloop-epoll env EVENTLOOP_POLLER=epoll $server echo-server --port {port} --quiet
eventloop-io_uring env EVENTLOOP_POLLER=io_uring $server echo-server --port {port} --quiet
LIST
