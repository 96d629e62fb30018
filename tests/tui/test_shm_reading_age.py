"""A traced program's System V segment: its cells come from a periodic kernel probe, the
semaphore's counts beside it from strace, so the detail view must say how old the
reading is. At 120x40 (a 58-column panel) the line that said it followed the segment's
long title and was cut before the age: a cell of 38 stood beside "44 waits, 43 posts"
with no word that it was an older reading."""

from __future__ import annotations

import base64

import pytest

from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import RecordedFeed

from .helpers import settle
from .screen_text import screen_rows

HEADER = {
    "format": "ipcviz-trace",
    "version": 1,
    "scenario": {"id": "program", "title": "counter under strace", "steps": [], "checks": []},
    "session": "00000000",
    "program": ["./counter"],
    "source": "strace",
}
MS = 1_000_000


def _events() -> list[dict]:
    """A counter at 38 read by the probe, then six more rounds traced on the semaphore."""
    out: list[dict] = [
        {"t": 0, "seq": 0, "pid": 10, "kind": "proc.start", "name": "counter"},
        {"t": 1 * MS, "seq": 1, "pid": 10, "kind": "obj.declare", "obj": "shmid:25",
         "type": "sysv_shm", "kernel_name": "shmid 25 (key IPC_PRIVATE)", "id": 25,
         "size": 8, "cell_size": 8, "cells": 1, "probe_cells": True},
        {"t": 2 * MS, "seq": 2, "pid": 10, "kind": "obj.declare", "obj": "semid:65599",
         "type": "sysv_sem", "kernel_name": "semid 65599 (key IPC_PRIVATE)", "id": 65599,
         "value": 1},
        {"t": 100 * MS, "seq": 3, "pid": 0, "kind": "probe.shm", "obj": "shmid:25",
         "data": base64.b64encode((38).to_bytes(8, "little")).decode(), "size": 8,
         "addresses": {"10": 140204332675072}, "nattch": 1, "cpid": 10},
    ]  # fmt: skip
    t = 110 * MS
    for _ in range(6):
        for kind in ("sem.wait", "sem.post"):
            out.append({"t": t, "seq": len(out), "pid": 10, "kind": kind, "obj": "semid:65599"})
            t += 22 * MS
    return out


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_detail_view_says_how_old_a_probed_cell_is(size: tuple[int, int]) -> None:
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events()), lang="en")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shown = "\n".join(screen_rows(app))
        assert "6 waits, 6 posts" in shown, shown
        assert "as the kernel probe read them (kernel 252ms ago)" in shown, shown
