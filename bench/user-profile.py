#!/usr/bin/env python3
"""Groups a user-space echo-server profile by what the samples are doing.

usage: bench/user-profile.py PERF_DATA   (recorded by `USER_ONLY=1 bench/profile-echo.sh ...`)

Prints the share of the user-space samples in each part of a round trip, then the largest
symbols left in none of them. The C server has two parts only: the instruction after its
`syscall`, where the return from the kernel is sampled, and its own few instructions.
"""
import re, subprocess, sys

PARTS = [
    ("return from the kernel (the instruction after `syscall`)", r"^(syscall|epoll_wait|__libc_recv|__send|recv|send)$"),
    ("the handler and its socket calls", r"HandleQuietAsync|StreamConnection::(Receive|Send)Async|SocketPal::|Operation::Execute"),
    ("resuming the greenlet: run queue, state-machine box, execution context",
     r"RunReadyQueue|InvokeItem|ReadyItem|AsyncStateMachineBox`1::MoveNext|ExecutionContext::RunInternal|"
     r"ExecutionContextCallback|IsInstanceOfInterface|AfterStep|RunIteration"),
    ("awaiting a loop source: the awaiter's type checks and interface calls, the wait's start and end",
     r"IsInstanceOfClass|VSD_DispatchStub|LoopValueTaskSourceCore|LoopWaitSource|LoopWait::|PendingAbort|"
     r"TokenRegistration|IntrusiveList|Recycle|OnResultTaken|OnFinished|TryComplete|GetStateMachineBox|"
     r"AwaitUnsafeOnCompleted|ExecutionContext::Capture|ReadinessWatch::Arm|DelegateShuffle|MethodCallThunk"),
    ("poll and dispatch", r"EpollPoller|DispatchIoEvents|IPollTarget|IReadinessHandler|PollIo|ReadClock|clock_gettime|"
     r"GetTimestamp|TimerQueue|LoopMetrics|IsOwnerThread|RunDueTimers"),
    ("the sample's buffer pool", r"ArrayPool"),
    ("runtime helpers: write barrier, thread-local lookups", r"WriteBarrier|__tls_get_addr|GetThreadStaticsBase"),
]


def main():
    report = subprocess.run(["perf", "report", "-i", sys.argv[1], "--no-children", "--sort", "sym", "--stdio", "-g", "none"],
                            capture_output=True, text=True, check=True).stdout
    totals = [0.0] * len(PARTS)
    rest = []
    for line in report.splitlines():
        match = re.match(r"\s+([\d.]+)%\s+\[\.\]\s+(.*)$", line)
        if not match:
            continue
        share, symbol = float(match.group(1)), match.group(2).strip()
        for i, (_, pattern) in enumerate(PARTS):
            if re.search(pattern, symbol):
                totals[i] += share
                break
        else:
            rest.append((share, symbol))
    for (name, _), total in zip(PARTS, totals):
        print(f"{total:5.1f} %  {name}")
    print(f"{sum(s for s, _ in rest):5.1f} %  other; largest:")
    for share, symbol in sorted(rest, reverse=True)[:5]:
        print(f"         {share:5.2f} %  {symbol[:110]}")


if __name__ == "__main__":
    main()
