#!/usr/bin/env python3
"""Echo throughput as paired ratios: servers measured in adjacent short windows, many times.

usage: bench/paired-echo.py [-p PAIRS] [-d SECS] [-S "B C D"] LOADGEN REF=COMMAND NAME=COMMAND...
  e.g. bench/paired-echo.py -p 12 /tmp/kit/bench/bin/loadgen \
         "c-epoll=/tmp/kit/bench/bin/echo_epoll {port}" \
         "eventloop=EventLoop.Samples/bin/Release/net10.0/EventLoop.Samples echo-server --port {port} --quiet --buffer-size 65536"

On this shared 2-vCPU machine a server's throughput drifts by 15-35 % over minutes, which is
more than the differences worth measuring. Every server is started once (pinned to CPU 0, each
on its own loopback port; an idle server sleeps in its poll and costs nothing), then for each
scenario the load generator (pinned to CPU 1) runs PAIRS rounds; in a round each server gets
one window of SECS seconds, back to back, in an order that rotates from round to round. The
ratio of a server to the reference is taken within each round, so slow drift cancels, and the
table gives the median of those ratios with their interquartile range, beside the median
round trips/s and the server's CPU per round trip (its utime + stime over the window, from
/proc, divided by the round trips), split into its user-space part (utime) and its kernel part
(stime): the kernel's part is the same TCP work for every server and moves with the machine, the
user-space part is the server's own. Servers are stopped by the PIDs this script started.
"""
import argparse, os, re, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchproc import free_port, start, stop, wait_listening

SCENARIOS = {"B": (100, 64), "C": (100, 4096), "D": (1000, 64)}


def cpu_seconds(pid):
    """(user, user + system) CPU seconds of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, (int(fields[11]) + int(fields[12])) / ticks


def start_pinned(command):
    port = free_port()
    proc = start(command, port, prefix=("taskset", "-c", "0"))
    wait_listening(proc, port, command)
    return proc, port


def window(loadgen, port, pid, conns, size, secs):
    user_before, before = cpu_seconds(pid)
    out = subprocess.run(
        ["taskset", "-c", "1", loadgen, "-c", str(conns), "-s", str(size), "-w", "1", "-d", str(secs),
         "127.0.0.1", str(port)],
        capture_output=True, text=True, timeout=secs + 60).stdout
    user_after, after = cpu_seconds(pid)
    match = re.search(r"\brt=(\d+) rt_per_s=(\d+)", out)
    if not match:
        raise RuntimeError(f"loadgen gave no result: {out!r}")
    round_trips, per_second = int(match.group(1)), int(match.group(2))
    # CPU over warm-up + measure, round trips of the measure window only: scale by the window share.
    scale = 1e6 / max(1, per_second * (secs + 1))
    return per_second, (after - before) * scale, (user_after - user_before) * scale


def quartiles(values):
    values = sorted(values)
    if len(values) < 4:
        return values[0], values[-1]
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-p", "--pairs", type=int, default=10)
    parser.add_argument("-d", "--seconds", type=int, default=3)
    parser.add_argument("-S", "--scenarios", default="B C D")
    parser.add_argument("loadgen")
    parser.add_argument("servers", nargs="+", help="NAME=COMMAND; the first is the reference")
    args = parser.parse_args()
    servers = [s.split("=", 1) for s in args.servers]
    started = []
    try:
        for name, command in servers:
            proc, port = start_pinned(command)
            started.append((name, proc, port))
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {args.pairs} rounds of "
              f"{args.seconds} s windows (+1 s warm-up), load average {os.getloadavg()[0]:.2f}")
        rows = []
        for scenario in args.scenarios.split():
            conns, size = SCENARIOS[scenario]
            rates = {name: [] for name, _, _ in started}
            cpus = {name: [] for name, _, _ in started}
            ratios = {name: [] for name, _, _ in started}
            cpu_ratios = {name: [] for name, _, _ in started}
            users = {name: [] for name, _, _ in started}
            kernels = {name: [] for name, _, _ in started}
            kernel_ratios = {name: [] for name, _, _ in started}
            for round_number in range(args.pairs):
                order = started[round_number % len(started):] + started[:round_number % len(started)]
                this_round = {}
                for name, proc, port in order:
                    this_round[name] = window(args.loadgen, port, proc.pid, conns, size, args.seconds)
                reference = started[0][0]
                for name in this_round:
                    rates[name].append(this_round[name][0])
                    cpus[name].append(this_round[name][1])
                    ratios[name].append(this_round[name][0] / this_round[reference][0])
                    cpu_ratios[name].append(this_round[name][1] / this_round[reference][1])
                    users[name].append(this_round[name][2])
                    kernels[name].append(this_round[name][1] - this_round[name][2])
                    kernel_ratios[name].append((this_round[name][1] - this_round[name][2])
                                               / max(1e-9, this_round[reference][1] - this_round[reference][2]))
            for name, _, _ in started:
                low, high = quartiles(ratios[name])
                clow, chigh = quartiles(cpu_ratios[name])
                ulow, uhigh = quartiles(users[name])
                rows.append(f"| {scenario} | {name} | {statistics.median(rates[name]):,.0f} | "
                            f"**×{statistics.median(ratios[name]):.2f}** ({low:.2f}–{high:.2f}) | "
                            f"{statistics.median(cpus[name]):.2f} µs | ×{statistics.median(cpu_ratios[name]):.2f} "
                            f"({clow:.2f}–{chigh:.2f}) | {statistics.median(users[name]):.2f} µs "
                            f"({ulow:.2f}–{uhigh:.2f}) | {statistics.median(kernels[name]):.2f} µs, "
                            f"×{statistics.median(kernel_ratios[name]):.2f} |")
        print("| scenario | server | round trips/s, median | paired ratio, median (IQR) | CPU per round trip | paired CPU ratio (IQR) | user-space CPU per round trip (IQR) | kernel CPU per round trip, paired ratio |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(rows))
    finally:
        for _, proc, _ in started:
            stop(proc)


if __name__ == "__main__":
    main()
