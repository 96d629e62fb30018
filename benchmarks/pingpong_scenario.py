"""Benchmark scenario: a ping-pong of 64-byte messages over two pipes, each side pinned to
its own CPU. Run by the real engine twice, traced and with ``--no-trace``: the same code."""

import os
import time

from ipcviz.scenario import Scenario

scenario = Scenario("pingpong", "Tracer overhead benchmark", params={"rounds": 20000})
ab = scenario.pipe("ab", writer="ping", reader="pong")
ba = scenario.pipe("ba", writer="pong", reader="ping")
MSG = b"x" * 64


def pin(index: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[index % len(cpus)]})


@scenario.process("ping")
def ping(ctx):
    pin(0)
    start = time.perf_counter()
    for _ in range(ctx.params["rounds"]):
        ab.write(MSG)
        ba.read(64)
    # printed, not ctx.report: reports travel through the tracer, which the baseline lacks
    print(f"pingpong_seconds {time.perf_counter() - start:.6f}", flush=True)


@scenario.process("pong")
def pong(ctx):
    pin(1)
    for _ in range(ctx.params["rounds"]):
        ab.read(64)
        ba.write(MSG)
