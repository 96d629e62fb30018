"""A stop, and ``k``, wait for a worker writing a record (``Engine._quiesce``,
``Commands._to_rest``). Real rings and real writers, the engine's own code; the kernel
side that ``Gate._settled`` reads from /proc is the one thing given: "later", what it
says of a worker asleep in ``time.sleep``, as ``Ring._wait_for_room`` is."""

from __future__ import annotations

import os
import signal
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from ipcviz.engine import commands as commands_module
from ipcviz.engine import engine as engine_module
from ipcviz.engine.commands import Commands
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


def test_k_waits_for_the_record_its_victim_is_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    """``k`` SIGKILLed a worker where it stood: between a call's return and its record
    (here: its record waits for room in a full ring), the call went with it. ``k`` on a
    flooding sender, 2 runs in 3, left a message the trace never showed sent, which its
    receiver then took (``order.conflict``). Now the victim's gate is closed and its
    SIGKILL waits until it is at rest, its record written (``Commands._to_rest``). A real
    process, a real ring, the real command; its place in the kernel given ("resting")."""
    monkeypatch.setattr(commands_module, "REST_S", 600.0, raising=False)  # (pace: never)
    ring = Ring(4096)
    emit = ring.writer()
    while ring.capacity - (ring.words[0] - ring.words[1]) >= 64:
        emit(C.MQ_SEND, 0, 0, 1, b"x" * 16)
    pid = os.fork()
    if pid == 0:  # the victim: its record of a receive waits for room
        try:
            emit(C.MQ_RECV, 0, 0, 1, b"x" * 16)
            time.sleep(600)
        finally:
            os._exit(0)
    try:
        while not ring.pending_stamp():  # its stamp taken, waiting for room
            time.sleep(0.001)
        engine = _stopping(ring)
        engine.workers = {pid: _worker(pid, ring)}
        engine.gate.doomed = set()
        engine.gate.resting = lambda w: True  # (asleep in time.sleep: "later")
        engine.frozen = False
        engine.emit = lambda *args, **fields: {}
        engine._model_pid = lambda w: w.pid
        Commands(engine).run({"cmd": "kill", "pid": pid})
    finally:
        os.kill(pid, signal.SIGKILL)  # (already, unless a failure came first)
        os.waitpid(pid, 0)
    ring.drain(engine.drained)
    assert engine.drained[-1][0] == C.MQ_RECV, "the victim's last record was lost"
