#!/usr/bin/env python3
"""Start-up time (exec to the first accepted TCP connection) and idle RSS of a server.

usage: bench/startup.py [-r RUNS] [--idle SECONDS] LABEL=COMMAND... (COMMAND holds {port})
  e.g. bench/startup.py -r 5 "jit=EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples echo-server --port {port} --quiet" \
                              "aot=artifacts/aot/EventLoop.Samples echo-server --port {port} --quiet"
Runs the commands alternately (so machine noise hits each alike), on 127.0.0.1 only, and stops
each server by the PID it started. Prints one markdown row per label: medians and ranges.
"""
import argparse, os, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchproc import free_port, rss_kib, start, stop, wait_listening

def once(command, idle):
    port = free_port()
    started = time.monotonic()
    proc = start(command, port)
    try:
        wait_listening(proc, port, command, poll_seconds=0.0005)
        ready = time.monotonic() - started
        time.sleep(idle)
        return ready * 1000, rss_kib(proc.pid) / 1024
    finally:
        stop(proc)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--runs", type=int, default=5)
    ap.add_argument("--idle", type=float, default=1.0, help="seconds idle before RSS is read")
    ap.add_argument("servers", nargs="+")
    a = ap.parse_args()
    pairs = [s.split("=", 1) for s in a.servers]
    results = {label: [] for label, _ in pairs}
    for _ in range(a.runs):
        for label, command in pairs:
            results[label].append(once(command, a.idle))
    print("| server | time to listening, ms (median, range) | idle RSS, MiB (median, range) |")
    print("| --- | --- | --- |")
    for label, rows in results.items():
        t = [r[0] for r in rows]; m = [r[1] for r in rows]
        print(f"| {label} | {statistics.median(t):.0f} ({min(t):.0f}–{max(t):.0f}) | "
              f"{statistics.median(m):.1f} ({min(m):.1f}–{max(m):.1f}) |")

if __name__ == "__main__":
    main()
