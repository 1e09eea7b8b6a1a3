#!/usr/bin/env bash
# Measures, in one run of ../shared/bench's load generator (server on CPU 0, load on CPU 1):
# the C epoll echo server (c-epoll), the C io_uring echo server (bench/uring-echo.c, c-uring),
# and the samples' echo-server on the epoll and on the io_uring back end.
# usage: bench/run-uring.sh [RUNS] [SCENARIOS]        e.g. bench/run-uring.sh 3 "B C D"
# ECHO_SERVER_ARGS (environment) is appended to both echo-server command lines, e.g.
# ECHO_SERVER_ARGS="--buffer-size 65536" for scenario C (the C servers read up to 64/4 KiB at once).
# Then: bench/count-syscalls.sh for system calls per round trip.
# Results: the TSV and a markdown summary under $KIT/results (the script prints the path).
# The machine is shared: wrap the whole script in `flock /tmp/bench.lock ...`.
set -euo pipefail
runs=${1:-3}
scenarios=${2:-"B C D"}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
kit=$(mktemp -d)/bench
cp -r "$shared" "$kit"
chmod -R u+w "$kit"
"$kit/build.sh"
gcc -O2 -Wall -o "$kit/bin/uring-echo" "$repo/bench/uring-echo.c"
dotnet build -c Release "$repo/EventLoop.Samples" >/dev/null
server="$repo/EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples"
extra=${ECHO_SERVER_ARGS:+ $ECHO_SERVER_ARGS}
out="$kit/results/peers-uring.tsv"
mkdir -p "$kit/results"
# env execs the server, so the PID the script records is still the server's.
"$kit/run-peers.sh" -R -r "$runs" -S "$scenarios" -o "$out" \
  -x "c-uring pinned $kit/bin/uring-echo {port}" \
  -x "eventloop-epoll pinned env EVENTLOOP_POLLER=epoll $server echo-server --port {port} --quiet$extra" \
  -x "eventloop-io_uring pinned env EVENTLOOP_POLLER=io_uring $server echo-server --port {port} --quiet$extra"
python3 "$kit/summarize.py" --peers "$out" | tee "$kit/results/summary.md"
echo "results: $kit/results"
