"""A ping-pong of 64-byte messages over two pipes between two processes, using ipcviz's
instrumented ``Pipe`` wrappers. ``traced`` attaches real tracer rings that a drainer empties
(as the engine does); ``raw`` runs the identical code with tracing off.

Run alone (for strace): ``python benchmarks/pingpong.py raw 20000``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from ipcviz.engine.stream import EventOut, RecordCodec, fold, publish_records
from ipcviz.events.trace import TraceWriter
from ipcviz.ipc.pipe import Pipe
from ipcviz.model.state import PipeObj, State
from ipcviz.tracer.current import become_worker
from ipcviz.tracer.ring import Ring

MSG = b"x" * 64


def trace_path() -> Path:
    return Path(tempfile.gettempdir()) / f"ipcviz-pingpong-{os.getpid()}.jsonl"


def _pin(cpu: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[cpu % len(cpus)]})


def _side(ping: Pipe, pong: Pipe, rounds: int, first: bool, ring: Ring | None, cpu: int) -> None:
    _pin(cpu)
    if ring is not None:
        become_worker(ring)
    if first:
        for _ in range(rounds):
            ping.write(MSG)
            pong.read(64)
    else:
        for _ in range(rounds):
            ping.read(64)
            pong.write(MSG)
    os._exit(0)


def run(mode: str, rounds: int) -> float:
    """Seconds for ``rounds`` round trips."""
    ab, ba = Pipe("ab"), Pipe("ba")
    ab.index, ba.index = 0, 1
    for p in (ab, ba):
        p.read_fd, p.write_fd = os.pipe()
    rings = [Ring(), Ring()] if mode == "traced" else [None, None]
    start = time.perf_counter()
    a = os.fork()
    if a == 0:
        _side(ab, ba, rounds, True, rings[0], 0)
    b = os.fork()
    if b == 0:
        _side(ab, ba, rounds, False, rings[1], 1)
    live = {a, b}
    if mode == "traced":  # the engine's own per-record pipeline, into a real trace file
        codec = RecordCodec(0, ["ab", "ba"], [])
        out = EventOut(os.open(os.devnull, os.O_WRONLY), TraceWriter(trace_path(), {}))
        model = State()
        for obj in (ab, ba):
            model.objects[obj.name] = PipeObj(obj.name, "pipe")
    while live:
        if mode == "traced":
            batch: list = []
            for pid_, ring in zip((a, b), rings, strict=True):
                got: list = []
                ring.drain(got)  # type: ignore[union-attr]
                batch.extend(fold(got, pid_))
            if batch:
                publish_records(batch, codec, out, model)
                out.flush()
        pid, _ = os.waitpid(-1, os.WNOHANG)
        if pid:
            live.discard(pid)
        else:
            time.sleep(0.002)
    elapsed = time.perf_counter() - start
    if mode == "traced":
        out.trace.close()
        os.close(out.stream_fd)
        assert model.objects["ab"].written == 64 * rounds, "records were lost"
    for p in (ab, ba):
        os.close(p.read_fd)
        os.close(p.write_fd)
    for ring in rings:
        if ring is not None:
            ring.close()
    return elapsed


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "raw"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    print(f"{run(mode, n):.6f}")
