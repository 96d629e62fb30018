"""A sweep reads only processes the trace has started: a child adopted before its ring was
read has no ``proc.start`` published yet, and a reading of it published first named a
process the trace never started (``verify``: a seeded forking run, 1 in 40 beside a busy
loop). Real processes are read; the engine around the prober is the least it needs."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from ipcviz.engine.probing import Prober
from ipcviz.model.state import Proc, State
from tests.probe.conftest import Children


def test_a_sweep_reads_no_process_whose_start_is_not_published(children: Children) -> None:
    started, adopted = (children.spawn(lambda: time.sleep(60)) for _ in range(2))
    model = State()
    model.procs[started] = Proc(started, "w", 0)
    emitted: list[dict[str, Any]] = []

    def emit(kind: str, pid: int = 0, **fields: Any) -> dict[str, Any]:
        emitted.append({"kind": kind, "pid": pid, **fields})
        return emitted[-1]

    def worker(pid: int) -> SimpleNamespace:
        return SimpleNamespace(pid=pid, exited=False, proc=SimpleNamespace(argv=None))

    engine = SimpleNamespace(
        scenario=SimpleNamespace(objects=[]),
        workers={started: worker(started), adopted: worker(adopted)},
        model=model,
        emit=emit,
    )
    Prober(engine, interval=0).sweep()
    read = [e["pid"] for e in emitted if e["kind"] == "probe.proc"]
    assert read == [started], emitted  # (the fixture kills and reaps both)
