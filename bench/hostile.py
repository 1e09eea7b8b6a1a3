#!/usr/bin/env python3
"""Hostile-client attacks against cache-server and redis-server, side by side, one table.

Each attack starts a fresh server (cache-server from this repository, then redis-server), runs
the attack on 127.0.0.1, reads the server's RSS and CPU time from /proc, stops the server by PID
and prints one row per attack with both servers' figures and their ratio. Stdlib only; every
attack is bounded in count and time and stops by itself.

usage: bench/hostile.py [--only NAME[,NAME]] [--quick]
  attacks: expiry, large, cpu, idle, burst, fdlimit
  --quick: smaller counts (for a smoke run)
Needs redis-server (Debian: apt-get install redis-server) and a built cache-server:
  dotnet build -c Release EventLoop.Samples
"""
import argparse
import os
import random
import selectors
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_SERVER = os.path.join(REPO, "EventLoop.Samples", "bin", "Release", "net10.0", "EventLoop.Samples")
HOST = "127.0.0.1"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- servers

class Server:
    """A server process on its own port, stopped by PID."""

    def __init__(self, kind, port, max_clients=10000, nofile=None):
        self.kind = kind
        self.port = port
        if kind == "cache-server":
            cmd = [CACHE_SERVER, "cache-server", "--port", str(port), "--max-clients", str(max_clients)]
        else:
            cmd = ["redis-server", "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no",
                   "--maxclients", str(max_clients), "--daemonize", "no"]
        if nofile:
            cmd = ["prlimit", "--nofile=%d:%d" % (nofile, nofile), "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if command(port, "PING") == b"+PONG\r\n":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s did not start" % kind)

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_s(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_reply(sock, buf=b""):
    """Reads one RESP reply (no arrays needed here); returns (reply_bytes, rest)."""
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    line, rest = buf.split(b"\r\n", 1)
    if line[:1] == b"$" and int(line[1:]) >= 0:
        need = int(line[1:]) + 2
        while len(rest) < need:
            chunk = sock.recv(max(65536, need - len(rest)))
            if not chunk:
                raise EOFError
            rest += chunk
        return line + b"\r\n" + rest[:need], rest[need:]
    return line + b"\r\n", rest


def command(port, *args):
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(resp(*args))
        reply, _ = read_reply(s)
        return reply


def dbsize(sock):
    sock.sendall(resp("DBSIZE"))
    reply, _ = read_reply(sock)
    return int(reply[1:-2])


def ping_latency(sock):
    t = time.perf_counter()
    sock.sendall(b"PING\r\n")
    read_reply(sock)
    return time.perf_counter() - t


def open_many(port, count, timeout=30):
    """Opens count connections (non-blocking connects, bounded in time); returns the connected sockets."""
    sel = selectors.DefaultSelector()
    done = []
    pending = 0
    deadline = time.time() + timeout
    started = 0
    while (started < count or pending) and time.time() < deadline:
        while started < count and pending < 512:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex((HOST, port))
            sel.register(s, selectors.EVENT_WRITE)
            pending += 1
            started += 1
        for key, _ in sel.select(0.1):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    return done


def classify(socks, wait=1.0):
    """Which sockets got the max-clients error (and EOF) within `wait`; returns (rejected, silent)."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    rejected = set()
    deadline = time.time() + wait
    while time.time() < deadline and len(rejected) < len(socks):
        for key, _ in sel.select(0.05):
            s = key.fileobj
            try:
                data = s.recv(256)
            except OSError:
                data = b""
            if data.startswith(b"-ERR max number of clients reached") or not data:
                rejected.add(s)
                sel.unregister(s)
    sel.close()
    return [s for s in socks if s in rejected], [s for s in socks if s not in rejected]


def close_all(socks, reset=False):
    for s in socks:
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()


# ---------------------------------------------------------------- attacks (each returns {label: value})

def attack_expiry(port, server, q):
    """20,000 SET PX 100 per second for 5 s, never read; DBSIZE each second, then 1 s after."""
    rate, seconds = (20000, 5) if not q else (5000, 2)
    w = socket.create_connection((HOST, port))
    probe = socket.create_connection((HOST, port))
    counts = []
    n = 0
    batch = rate // 100
    start = time.perf_counter()
    for tick in range(seconds * 100):
        payload = b"".join(resp("SET", "k:%d" % (n + i), "v", "PX", "100") for i in range(batch))
        n += batch
        w.sendall(payload)
        buf = b""
        expect = batch * 5  # "+OK\r\n"
        while len(buf) < expect:
            buf += w.recv(65536)
        target = start + (tick + 1) / 100
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if (tick + 1) % 100 == 0:
            counts.append(dbsize(probe))
    time.sleep(1.0)
    after = dbsize(probe)
    w.close()
    probe.close()
    return {"expiry: keys at each second of writes": " / ".join(map(str, counts)),
            "expiry: max keys during writes": max(counts), "expiry: keys 1 s after writes stop": after}


def attack_large(port, server, q):
    """1,000 clients send 8 GET 256 KiB + 100 GET 1 KiB and reset; a connected client's worst PING latency."""
    clients = 1000 if not q else 200
    big = b"x" * (256 * 1024)
    small = b"y" * 1024
    c = socket.create_connection((HOST, port))
    c.sendall(resp("SET", "big", big) + resp("SET", "small", small))
    _, rest = read_reply(c)
    read_reply(c, rest)
    c.close()
    probe = socket.create_connection((HOST, port))
    probe.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = resp("GET", "big") * 8 + resp("GET", "small") * 100
    worst = 0.0
    done = 0
    cpu0 = server.cpu_s()
    while done < clients:
        wave = open_many(port, min(100, clients - done))
        for s in wave:
            s.setblocking(True)
            try:
                s.sendall(request)
            except OSError:
                pass
        worst = max(worst, ping_latency(probe))
        close_all(wave, reset=True)
        worst = max(worst, ping_latency(probe))
        done += len(wave) or 100
    for _ in range(20):
        worst = max(worst, ping_latency(probe))
        time.sleep(0.01)
    probe.close()
    return {"large replies + reset: worst probe latency ms": round(worst * 1000, 1),
            "large replies + reset: server CPU s": round(server.cpu_s() - cpu0, 2)}


def attack_cpu(port, server, q):
    """Server CPU per large GET: one client pipelines GET of a 256 KiB value and reads every reply."""
    gets = 10000 if not q else 500
    c = socket.create_connection((HOST, port))
    c.sendall(resp("SET", "big", b"z" * (256 * 1024)))
    read_reply(c)
    request = resp("GET", "big") * 50
    expected = len(b"$262144\r\n") + 256 * 1024 + 2
    cpu0 = server.cpu_s()
    for _ in range(gets // 50):
        c.sendall(request)
        remaining = expected * 50
        while remaining > 0:
            remaining -= len(c.recv(1 << 20))
    used = server.cpu_s() - cpu0
    c.close()
    return {"CPU per 256 KiB GET us": round(used / gets * 1e6, 1)}


def attack_idle(port, server, q):
    """RSS per idle connection: 10,000 silent connections (the default limit), held 2 s."""
    count = 10000 if not q else 2000
    base = server.rss_kib()
    socks = open_many(port, count)
    time.sleep(2)
    peak = server.rss_kib()
    close_all(socks)
    return {"idle connection RSS KiB": round((peak - base) / max(1, len(socks)), 2)}


def attack_burst(port, server, q):
    """19,000 connections at a 10,000 limit: served vs rejected, peak RSS, RSS 10 s after they close."""
    count = 19000 if not q else 3000
    base = server.rss_kib()
    socks = open_many(port, count)
    t = time.perf_counter()
    rejected, served = classify(socks, wait=3.0)
    peak = server.rss_kib()
    close_all(socks)
    time.sleep(10)
    after = server.rss_kib()
    return {"burst: served": len(served), "burst: rejected": len(rejected),
            "burst: peak RSS MiB": round(peak / 1024, 1), "burst: RSS idle MiB": round(base / 1024, 1),
            "burst: RSS 10 s after close MiB": round(after / 1024, 1)}


def attack_fdlimit(port, server, q):
    """Descriptor limit 4,096, 8,000 clients: rejected at once? then close 100 served, time to serve a new one."""
    count = 8000 if not q else 5000
    socks = open_many(port, count)
    rejected, served = classify(socks, wait=3.0)
    close_all(rejected)
    close_all(served[:100])
    t = time.perf_counter()
    latency = None
    while time.perf_counter() - t < 10:
        try:
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(b"PING\r\n")
            reply, _ = read_reply(s)
            s.close()
            if reply == b"+PONG\r\n":
                latency = time.perf_counter() - t
                break
        except (OSError, EOFError):
            pass
    close_all(served[100:])
    return {"fd limit 4096: served": len(served), "fd limit 4096: rejected": len(rejected),
            "fd limit 4096: new client served after release ms": None if latency is None else round(latency * 1000, 1)}


ATTACKS = {
    "expiry": (attack_expiry, {}),
    "large": (attack_large, {}),
    "cpu": (attack_cpu, {}),
    "idle": (attack_idle, {}),
    "burst": (attack_burst, {"max_clients": 10000}),
    "fdlimit": (attack_fdlimit, {"max_clients": 10000, "nofile": 4096}),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(ATTACKS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(CACHE_SERVER):
        sys.exit("build first: dotnet build -c Release EventLoop.Samples")
    port = 17000 + random.randint(0, 2000)
    rows = []
    for name in args.only.split(","):
        fn, opts = ATTACKS[name]
        results = {}
        for kind in ("cache-server", "redis-server"):
            port += 1
            server = Server(kind, port, **opts)
            try:
                results[kind] = fn(port, server, args.quick)
            finally:
                server.stop()
            time.sleep(1)
        for label in results["cache-server"]:
            a, b = results["cache-server"][label], results["redis-server"][label]
            ratio = "" if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or b == 0 else "%.2f" % (a / b)
            rows.append((label, a, b, ratio))
            print("%-52s %12s %12s %8s" % (label, a, b, ratio), file=sys.stderr, flush=True)
    print("| attack | cache-server | redis-server | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for label, a, b, ratio in rows:
        print("| %s | %s | %s | %s |" % (label, a, b, ratio))


if __name__ == "__main__":
    main()
