"""A ping-pong of 64-byte messages over two pipes between two processes pinned to their own
CPUs, using ipcviz's ``Pipe`` wrappers with tracing off: the reference that
``benchmarks/run.py`` times under ``strace -f``. (The tracer's own overhead is measured on
the real engine with ``benchmarks/pingpong_scenario.py``.)

Run alone: ``python benchmarks/pingpong.py raw 20000`` prints the seconds it took.
"""

from __future__ import annotations

import os
import sys
import time

from ipcviz.mechanisms.pipe.wrapper import Pipe

MSG = b"x" * 64


def _pin(cpu: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


def _side(ping: Pipe, pong: Pipe, rounds: int, first: bool, cpu: int) -> None:
    _pin(cpu)
    if first:
        for _ in range(rounds):
            ping.write(MSG)
            pong.read(64)
    else:
        for _ in range(rounds):
            ping.read(64)
            pong.write(MSG)
    os._exit(0)


def run(rounds: int) -> float:
    """Seconds for ``rounds`` round trips."""
    ab, ba = Pipe("ab"), Pipe("ba")
    for p in (ab, ba):
        p.read_fd, p.write_fd = os.pipe()
    start = time.perf_counter()
    children = []
    for first, cpu in ((True, 0), (False, 1)):
        pid = os.fork()
        if pid == 0:
            _side(ab, ba, rounds, first, cpu)  # never returns
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    for p in (ab, ba):
        os.close(p.read_fd)
        os.close(p.write_fd)
    return elapsed


if __name__ == "__main__":
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    print(f"{run(n):.6f}")
