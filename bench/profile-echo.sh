#!/usr/bin/env bash
# Where an echo round trip's time goes: system calls per round trip and a CPU profile of one
# echo server under scenario B (100 connections × 64 B; SIZE=4096 for C, CONNS=1000 for D), server on CPU 0, load on CPU 1.
# usage: bench/profile-echo.sh LABEL KIT_BIN_DIR COMMAND... ({port} in COMMAND is replaced)
#   e.g. bench/profile-echo.sh eventloop /tmp/kit/bench/bin EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples echo-server --port {port} --quiet
#        bench/profile-echo.sh c-epoll   /tmp/kit/bench/bin /tmp/kit/bench/bin/echo_epoll {port}
# Needs perf (syscalls tracepoints, cpu-clock sampling). .NET servers get DOTNET_PerfMapEnabled=1 and
# DOTNET_EnableWriteXorExecute=0 so perf names JIT-compiled methods (with W^X on, JIT code is
# sampled in an anonymous double mapping perf cannot name). Output: $OUT (default /tmp/profile-LABEL) with the loadgen lines,
# the perf stat counts and `perf report` by DSO and by symbol. Stops the server by its PID.
# USER_ONLY=1 samples user space alone (cpu-clock:u at 4,999 Hz, so the server's own code gets
# enough samples) with DOTNET_ReadyToRun=0, so the runtime library's methods are JIT-compiled and
# named too, and prints bench/user-profile.py's grouping of those samples.
set -euo pipefail
label=$1; bin=$2; shift 2
out=${OUT:-/tmp/profile-$label}; mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cmd=("${@//\{port\}/$port}")
if [ "${USER_ONLY:-0}" = 1 ]; then
  event=(-e cpu-clock:u -F 4999); export DOTNET_ReadyToRun=0
else
  event=(-F 999)
fi
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 taskset -c 0 "${cmd[@]}" > "$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do ss -ltn "sport = :$port" | grep -q LISTEN && break; sleep 0.05; done
# 1) system calls: 4 s window in the middle of an 8 s load
taskset -c 1 "$bin/loadgen" -c "${CONNS:-100}" -s "${SIZE:-64}" -w 1 -d 8 127.0.0.1 "$port" > "$out/loadgen-stat.txt" 2>&1 &
lg=$!
sleep 2
perf stat -e 'syscalls:sys_enter_*' -p "$pid" -o "$out/syscalls.txt" -- sleep 4
wait $lg
# 2) CPU profile: 4 s window at 999 Hz
taskset -c 1 "$bin/loadgen" -c "${CONNS:-100}" -s "${SIZE:-64}" -w 1 -d 8 127.0.0.1 "$port" > "$out/loadgen-record.txt" 2>&1 &
lg=$!
sleep 2
set +e +o pipefail   # from here on, report what there is
perf record "${event[@]}" -g -p "$pid" -o "$out/perf.data" -- sleep 4 2> "$out/record.log"
wait $lg
kill $pid; wait $pid 2>/dev/null
trap - EXIT
perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 > "$out/by-dso.txt"
perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 > "$out/by-symbol.txt"
grep -v ' 0  ' "$out/syscalls.txt" | grep syscalls > "$out/syscalls-nonzero.txt" || true
echo "== $label: loadgen (stat window run)"; cat "$out/loadgen-stat.txt"
echo "== system calls in 4 s"; cat "$out/syscalls-nonzero.txt"
echo "== by DSO"; cat "$out/by-dso.txt"
if [ "${USER_ONLY:-0}" = 1 ]; then
  echo "== user space by part"; python3 "$(dirname "$0")/user-profile.py" "$out/perf.data"
fi
