"""The engine's reader of a program's System V segments (``sources/strace/shmprobe.py``)
over many real segments: one read of the kernel's table per moment, at most ``HELD``
segments held attached, every segment read once when it is declared.

Before, every reading parsed all of /proc/sysvipc/shm: a program that made a segment a
millisecond (``test_leftover_attack.py``'s daemon) left the engine minutes behind, and its
Ctrl-C did not end within 120 s."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
import sysv_ipc

from ipcviz.probe import shm as probe_shm
from ipcviz.sources.strace import shmprobe
from ipcviz.sources.strace.shmprobe import HELD, SegmentProbe

#: More segments than the engine holds, so some are read once only.
MANY = HELD + 136


class _Proc:
    alive = True


class _Model:
    def __init__(self) -> None:
        self.procs = {os.getpid(): _Proc()}  # this test's process attaches some itself


class _Engine:
    """What ``SegmentProbe`` uses of the engine: its hooks and ``emit``; the segments,
    attachments and /proc are the kernel's."""

    source = None

    def __init__(self) -> None:
        self.model = _Model()
        self.on_events: list[Any] = []
        self.on_end: list[Any] = []
        self.cleanup_at_end: list[Any] = []
        self.emitted: list[dict[str, Any]] = []

    def add_periodic(self, interval: float, hook: Any) -> None:
        pass

    def emit(self, kind: str, **fields: Any) -> None:
        self.emitted.append({"kind": kind, **fields})


@pytest.fixture
def segments() -> Iterator[list[sysv_ipc.SharedMemory]]:
    """``MANY`` segments holding ``cell I``, attached by nobody."""
    made = [sysv_ipc.SharedMemory(None, sysv_ipc.IPC_CREX, 0o600, 4096) for _ in range(MANY)]
    for i, seg in enumerate(made):
        seg.write(f"cell {i}".encode())
        seg.detach()  # sysv_ipc attached it when it made it
    try:
        yield made
    finally:
        for seg in made:
            try:
                seg.remove()
            except sysv_ipc.Error:
                pass


def _declare(seg: sysv_ipc.SharedMemory) -> dict[str, Any]:
    name = f"shmid:{seg.id}"
    return {
        "kind": "obj.declare",
        "type": "sysv_shm",
        "obj": name,
        "id": seg.id,
        "probe_cells": True,
    }


def test_many_segments_cost_one_table_read_per_moment(
    segments: list[sysv_ipc.SharedMemory], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = segments[3]
    mine.attach()  # this process has one attached: its address is in that reading
    reads: list[str] = []
    real = probe_shm.read_text

    def counted(path: str) -> str | None:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(probe_shm, "read_text", counted)
    engine = _Engine()
    probe = SegmentProbe(engine, interval=0).install()

    engine.on_events[0]([_declare(seg) for seg in segments])  # one batch: one moment
    assert reads.count("/proc/sysvipc/shm") == 1, len(reads)
    assert len(probe.attached) == HELD  # the rest were read once and let go
    got = {e["obj"]: e for e in engine.emitted}
    assert len(got) == MANY == len(engine.emitted)  # every segment read once, at its declare
    for i, seg in enumerate(segments):
        reading = got[f"shmid:{seg.id}"]
        assert base64.b64decode(reading["data"]).startswith(f"cell {i}".encode())
        assert reading["size"] == 4096
    assert got[f"shmid:{mine.id}"]["addresses"] == {str(os.getpid()): mine.address}
    assert got[f"shmid:{mine.id}"]["nattch"] == 1  # this process's; not the engine's own
    held = {ident for ident, _ in probe.attached.values()}
    let_go = [seg for seg in segments if seg.id not in held]
    table = probe_shm.sysv_shm_stats()
    assert all(table[seg.id].nattch == 0 for seg in let_go)

    reads.clear()
    engine.emitted.clear()
    probe.sweep()
    assert reads.count("/proc/sysvipc/shm") == 1, len(reads)
    assert len(engine.emitted) == HELD

    engine.emitted.clear()
    engine.on_end[0]()
    assert not probe.attached and len(engine.emitted) == HELD
    mine.detach()
    table = probe_shm.sysv_shm_stats()
    assert all(table[seg.id].nattch == 0 for seg in segments)


def test_a_held_segment_removed_is_read_last_and_let_go(
    segments: list[sysv_ipc.SharedMemory],
) -> None:
    engine = _Engine()
    probe = SegmentProbe(engine, interval=0).install()
    first = segments[0]
    engine.on_events[0]([_declare(first)])
    first.attach()
    first.write(b"last words")
    first.detach()
    first.remove()  # the engine's attachment keeps its memory: one last reading
    engine.emitted.clear()
    engine.on_events[0]([{"kind": "obj.remove", "obj": f"shmid:{first.id}"}])
    assert [base64.b64decode(e["data"])[:10] for e in engine.emitted] == [b"last words"]
    assert not probe.attached
    assert first.id not in shmprobe.probe.sysv_shm_stats()  # gone with the engine's detach


def test_a_hurried_end_lets_every_segment_go_unread(segments: list[sysv_ipc.SharedMemory]) -> None:
    """A second Ctrl-C runs only ``cleanup_at_end``: the engine reads nothing more (the
    stream is a prefix) but holds no segment when the program's leftovers are listed."""
    engine = _Engine()
    probe = SegmentProbe(engine, interval=0).install()
    engine.on_events[0]([_declare(seg) for seg in segments[:5]])
    assert len(probe.attached) == 5
    engine.emitted.clear()
    assert engine.cleanup_at_end == [probe.let_go]
    for hook in engine.cleanup_at_end:
        hook()
    assert not probe.attached and not engine.emitted
    table = probe_shm.sysv_shm_stats()
    assert all(table[seg.id].nattch == 0 for seg in segments[:5])
