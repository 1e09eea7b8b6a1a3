"""Servers for the bench scripts: a free loopback port, start a command and wait until it listens,
its resident memory, and a stop by the PID that was started. Imported by startup.py, held-rss.py
and paired-echo.py (run from any directory: they put bench/ on the import path)."""
import shlex, signal, socket, subprocess, time


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


def start(command, port, prefix=()):
    """Starts COMMAND with {port} replaced (after PREFIX, e.g. a taskset), output discarded."""
    argv = list(prefix) + shlex.split(command.replace("{port}", str(port)))
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_listening(proc, port, command, poll_seconds=0.01, timeout=30):
    """Returns once a connection to the port succeeds; raises if the server exits or never listens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not listen: {command}")
            time.sleep(poll_seconds)


def stop(proc):
    """SIGINT (the servers' graceful stop), then SIGKILL after 5 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
