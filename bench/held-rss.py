#!/usr/bin/env python3
"""Resident memory per held connection of an echo server.

usage: bench/held-rss.py [-n CONNECTIONS] [-r RUNS] LABEL=COMMAND... (COMMAND holds {port})
  e.g. bench/held-rss.py -n 5000 "c-epoll=/tmp/kit/bench/bin/echo_epoll {port}" \
         "eventloop=EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples echo-server --port {port} --quiet"

For each server: start it, warm it up (100 connections that each echo one message and close, so
the accept and echo paths are compiled and their buffers exist), read VmRSS, then open
CONNECTIONS connections that each echo one message and stay open, wait 1 s, read VmRSS again.
The difference divided by CONNECTIONS is the figure; kernel socket memory is not in it (it is
not in the process's RSS). Loopback only; servers stopped by the PIDs this script started.
"""
import argparse, os, resource, socket, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchproc import free_port, rss_kib, start, stop, wait_listening


def echo_once(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"hello girl")
    got = b""
    while len(got) < 10:
        chunk = s.recv(64)
        if not chunk:
            raise RuntimeError("server closed the connection")
        got += chunk
    return s


def once(command, count):
    port = free_port()
    proc = start(command, port)
    held = []
    try:
        wait_listening(proc, port, command)
        for _ in range(100):
            echo_once(port).close()
        time.sleep(1)
        before = rss_kib(proc.pid)
        for _ in range(count):
            held.append(echo_once(port))
        time.sleep(1)
        after = rss_kib(proc.pid)
        return before, after
    finally:
        for s in held:
            s.close()
        stop(proc)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--connections", type=int, default=5000)
    parser.add_argument("-r", "--runs", type=int, default=3)
    parser.add_argument("servers", nargs="+")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 256)), hard))
    results = {}
    for _ in range(args.runs):
        for spec in args.servers:
            label, command = spec.split("=", 1)
            results.setdefault(label, []).append(once(command, args.connections))
    print(f"| server | VmRSS before, MiB | with {args.connections:,} held, MiB | per held connection, KiB (median, range) |")
    print("| --- | ---: | ---: | ---: |")
    for label, runs in results.items():
        per = [(after - before) / args.connections for before, after in runs]
        print(f"| {label} | {statistics.median(b for b, _ in runs) / 1024:.1f} | "
              f"{statistics.median(a for _, a in runs) / 1024:.1f} | "
              f"**{statistics.median(per):.2f}** ({min(per):.2f}–{max(per):.2f}) |")


if __name__ == "__main__":
    main()
