#!/usr/bin/env bash
# Measures the samples' echo-server against the hand-written C epoll echo server of
# ../shared/bench, in the same run (server on CPU 0, load generator on CPU 1).
# usage: bench/run-echo.sh [RUNS] [SCENARIOS] [SERVER ARGS...]
#   e.g. bench/run-echo.sh 3 "B C D E"
#        bench/run-echo.sh 3 C --buffer-size 65536     (extra echo-server arguments)
# ECHO_SERVER_ARGS (environment) is appended to the echo-server command line as well.
# Results: the TSV and a markdown summary under $KIT/results (the script prints the path).
# The machine is shared: wrap the whole script in `flock /tmp/bench.lock ...`.
set -euo pipefail
runs=${1:-3}
scenarios=${2:-"B C D E"}
shift $(( $# < 2 ? $# : 2 ))
extra="$* ${ECHO_SERVER_ARGS:-}"
extra=$(echo "$extra" | xargs)   # trim
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$repo/../shared/bench}
kit=$(mktemp -d)/bench
cp -r "$shared" "$kit"
chmod -R u+w "$kit"
"$kit/build.sh"
dotnet build -c Release "$repo/EventLoop.Samples" >/dev/null
server="$repo/EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples"
out="$kit/results/peers-eventloop.tsv"
mkdir -p "$kit/results"
command="$server echo-server --port {port} --quiet${extra:+ $extra}"
echo "echo-server command: $command" | tee "$kit/results/command.txt"
"$kit/run-peers.sh" -R -r "$runs" -S "$scenarios" -o "$out" -x "eventloop pinned $command"
python3 "$kit/summarize.py" --peers "$out" | tee "$kit/results/summary.md"
echo "results: $kit/results"
