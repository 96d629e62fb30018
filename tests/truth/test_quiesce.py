"""The stop waits for a worker writing a record (``Engine._quiesce``). Real rings and a
real writer (a thread of this process), the engine's own ``_quiesce``; the kernel side
that ``Gate._settled`` reads from /proc is the one thing given: "later", what it says of
a worker asleep in ``time.sleep``, as ``Ring._wait_for_room`` is."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from ipcviz.engine import engine as engine_module
from ipcviz.engine.engine import Engine
from ipcviz.tracer import codes as C
from ipcviz.tracer.ring import Record, Ring
from tests.truth.test_fork_hold import _close_rings, _worker  # noqa: F401 (a fixture)


def _stopping(ring: Ring) -> Any:
    """An engine as far as ``_quiesce`` sees it: its first drain reads nothing (the
    worker has not got the CPU yet), each later one reads the ring whole."""
    drained: list[Record] = []
    calls = []

    def drain() -> None:
        calls.append(1)
        if len(calls) > 1:
            ring.drain(drained)

    engine: Any = SimpleNamespace(
        workers={1: _worker(1, ring)},
        gate=SimpleNamespace(close_all=lambda: None, _settled=lambda: "later"),
        _thaw=lambda: None,
        _drain=drain,
        _reap=lambda poller: None,
        _quiescing=False,
        drained=drained,
    )
    engine._recording = lambda: Engine._recording(engine)
    return engine


def test_a_stop_waits_for_a_record_stalled_on_a_full_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker whose ring is full when it records a call it made sleeps until the engine
    makes room. ``_settled`` says "later" of that sleep, and the stop killed it there: the
    call's record was lost (a receive shown never done, its message still queued in the
    picture). Now the stop waits while a record is being written (``_recording``)."""
    monkeypatch.setattr(engine_module, "QUIESCE_S", 600.0)  # (its pace never decides)
    ring = Ring(4096)
    emit = ring.writer()
    while ring.capacity - (ring.words[0] - ring.words[1]) >= 64:  # full, short of one
        emit(C.PIPE_WRITE, 0, 1, 1, b"x" * 16)
    stalled = threading.Thread(target=lambda: emit(C.PIPE_READ, 0, 1, 0, b"x" * 16))
    engine = _stopping(ring)
    stalled.start()
    try:
        while not ring.pending_stamp():  # its stamp taken, waiting for room
            stalled.join(0.001)
        Engine._quiesce(engine)
        assert ring.pending_stamp() == 0, "the stop ended with a record half written"
    finally:
        ring.drain(engine.drained)  # (the room a failure left it waiting for)
        stalled.join()
    assert engine.drained[-1][0] & 0xFF == C.PIPE_READ  # (its thread's lane in the high byte)
