"""Stopping an engine: patience while it works, signals when it does not."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ipcviz.engine.client import EngineProcess, _cpu_ticks

#: A child that works (a fixed count of steps, a few seconds of CPU), then exits 0.
WORKS = "n = 0\nfor i in range(25_000_000):\n    n += i\n"


def _engine_like(code: str) -> EngineProcess:
    engine = EngineProcess.__new__(EngineProcess)  # only the process part is needed here
    engine.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
    return engine


def test_an_engine_still_working_on_its_stop_is_given_time() -> None:
    """A loaded machine stretches a nice-10 engine's cleanup past the grace period; while
    its CPU time grows it is not signalled (the trace keeps its session.end)."""
    engine = _engine_like(WORKS)
    try:
        assert engine._wait_while_working(grace=0.5, patience=600) == 0
    finally:
        engine.proc.kill()
        engine.proc.wait()


def test_an_engine_that_does_nothing_is_not_waited_for_beyond_its_grace() -> None:
    engine = _engine_like("import time\ntime.sleep(600)")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            engine._wait_while_working(grace=0.5, patience=600)
    finally:
        engine.proc.kill()
        engine.proc.wait()


def test_cpu_ticks_of_a_gone_process_is_none() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert _cpu_ticks(proc.pid) is None
