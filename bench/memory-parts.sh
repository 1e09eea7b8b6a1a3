#!/usr/bin/env bash
# What one unit of a held steady state is made of, from two heap dumps: 100,000 sleeping greenlets
# (the `sleepers` probe's state) or held connections (the `held` probe's state, every handler
# waiting in a zero-byte receive). The probe (`EventLoop.Benchmarks -- hold`) stops at a baseline
# (the connections' clients already connected) and again once every unit exists; the dump at each
# point gives each type's bytes, and the difference, per unit, is what a unit costs: the type's
# size, how many there are per unit, and the bytes per unit (large arrays spread over the units).
# usage: bench/memory-parts.sh sleepers|connections [COUNT]
#   defaults: 100,000 sleepers; 3,000 connections (the probe connects its clients into the
#   accept queue before the loop runs, and the queue holds 4,096).
# Needs `dotnet build -c Release EventLoop.Benchmarks` and `dotnet tool restore` (dotnet-gcdump).
# The probe ends when its standard input closes; the script closes it on exit.
set -euo pipefail
what=$1
case "$what" in
  sleepers) count=${2:-100000} ;;
  connections) count=${2:-3000}; ulimit -n "$(( count * 2 + 1024 ))" ;;
  *) echo "usage: $0 sleepers|connections [COUNT]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
dll=$root/EventLoop.Benchmarks/bin/Release/net10.0/EventLoop.Benchmarks.dll
[ -f "$dll" ] || { echo "build first: dotnet build -c Release EventLoop.Benchmarks" >&2; exit 2; }
work=$(mktemp -d)
mkfifo "$work/in"
dotnet "$dll" hold "$what" "$count" < "$work/in" > "$work/out" 2>&1 &
pid=$!
exec 7> "$work/in"
trap 'exec 7>&-; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

dump_at() { # POINT: wait until the probe prints it, dump the heap, let the probe go on
  for _ in $(seq 600); do grep -q "^$1" "$work/out" && break; kill -0 $pid 2>/dev/null || { cat "$work/out" >&2; exit 1; }; sleep 0.1; done
  grep -q "^$1" "$work/out" || { echo "the probe did not reach '$1' in 60 s" >&2; kill $pid; exit 1; }
  # At the baseline, a first dump sets up the runtime's event source for the ones that count.
  [ "$1" != baseline ] || (cd "$root" && dotnet dotnet-gcdump collect -p $pid -o "$work/warm.gcdump" > /dev/null 2>&1)
  (cd "$root" && dotnet dotnet-gcdump collect -p $pid -o "$work/$1.gcdump" > /dev/null 2>&1 &&
    dotnet dotnet-gcdump report "$work/$1.gcdump" 2> /dev/null) > "$work/$1.txt"
  echo >&7
}
dump_at baseline
dump_at ready
python3 - "$count" "$what" "$work/baseline.txt" "$work/ready.txt" <<'PY'
import re, sys
count, what = int(sys.argv[1]), sys.argv[2]
def read(path):
    rows = {}
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+([\d,]+)\s+(.+?)\s+\[", line)
        if m:  # the size column is bytes per object; a type may appear in several size buckets
            size, n = int(m[1].replace(",", "")), int(m[2].replace(",", ""))
            name = re.sub(r" \(Bytes > [^)]*\)", "", m[3])
            total, k = rows.get(name, (0, 0))
            rows[name] = (total + size * n, k + n)
    return rows
before, after = read(sys.argv[3]), read(sys.argv[4])
parts = []
for name, (total, n) in after.items():
    t0, n0 = before.get(name, (0, 0))
    per = (total - t0) / count
    if per >= 2:
        parts.append((per, (n - n0) / count, (total - t0) / max(n - n0, 1), name))
print(f"{count:,} {what}: bytes per unit, by type (dump after minus dump before)")
for per, objects, size, name in sorted(parts, reverse=True):
    print(f"{per:7.1f} B  {objects:5.2f} x {size:8.0f} B  {name}")
print(f"{sum(p[0] for p in parts):7.1f} B per unit in all (types under 2 B per unit left out)")
PY
