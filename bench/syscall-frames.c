// Returns after a system call, in C: the cost of returning through DEPTH frames after a cheap
// system call (getppid through syscall(2)), against the same frames around no system call. All
// frames are one function on one code page, so a difference per frame is the returns themselves
// (mispredicted after the kernel), not the TLB. Compares with EventLoop.Benchmarks'
// SyscallReturnBenchmarks, which measures the same from .NET.
// build: gcc -O2 -o /tmp/syscall-frames bench/syscall-frames.c
// run:   taskset -c 0 /tmp/syscall-frames
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static volatile int make_call;

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

// One frame per level; the innermost makes the system call (or not), and every level returns
// through its caller.
__attribute__((noinline)) static long frame(int depth)
{
    long r = depth <= 1 ? (make_call ? syscall(SYS_getppid) : 1) : frame(depth - 1);
    __asm__ volatile("" ::: "memory"); // keep the call a call, not a tail jump
    return r + 1;
}

int main(void)
{
    const int iterations = 200000;
    for (int call = 0; call <= 1; call++) {
        make_call = call;
        for (int depth = 1; depth <= 16; depth *= 2) {
            long best = -1;
            for (int round = 0; round < 5; round++) {
                long start = now_ns();
                for (int i = 0; i < iterations; i++) {
                    frame(depth);
                }
                long per = (now_ns() - start) / iterations;
                if (best < 0 || per < best) {
                    best = per;
                }
            }
            printf("%s, %2d frames: %ld ns\n", call ? "system call" : "no system call", depth, best);
        }
    }
    return 0;
}
