#!/usr/bin/env python3
"""Start-up time (exec to the first accepted TCP connection) and idle RSS of a server.

usage: bench/startup.py [-r RUNS] [--idle SECONDS] LABEL=COMMAND... (COMMAND holds {port})
  e.g. bench/startup.py -r 5 "jit=EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples echo-server --port {port} --quiet" \
                              "aot=artifacts/aot/EventLoop.Samples echo-server --port {port} --quiet"
Runs the commands alternately (so machine noise hits each alike), on 127.0.0.1 only, and stops
each server by the PID it started. Prints one markdown row per label: medians and ranges.
"""
import argparse, os, shlex, signal, socket, statistics, subprocess, time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def once(command, idle):
    port = free_port()
    argv = shlex.split(command.replace("{port}", str(port)))
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = start + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not listen: {command}")
                time.sleep(0.0005)
        ready = time.monotonic() - start
        time.sleep(idle)
        return ready * 1000, rss_kib(proc.pid) / 1024
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

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
