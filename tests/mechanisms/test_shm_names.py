"""A cell the scenario named is told by its name in the log (``buffer.in``, not
``buffer[5]``): the names a lecturer gave are the words the students read. Names come from
the trace, so they are untrusted: made inert, and a malformed one is skipped."""

from __future__ import annotations

from typing import Any

from ipcviz.narrate.headless import Narrator

HEADER = {"format": "ipcviz-trace", "version": 1}


def _said(names: Any, offsets: list[int], lang: str = "en", obj: str = "buffer") -> list[str]:
    events = [
        {"t": 1, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": obj, "type": "posix_shm",
         "kernel_name": "/x", "size": 64, "cells": 8, "cell_size": 8, "names": names},
        {"t": 2, "seq": 1, "pid": 7, "kind": "proc.start", "name": "producer"},
    ]  # fmt: skip
    for i, offset in enumerate(offsets):
        events.append(
            {"t": 3 + i, "seq": 2 + i, "pid": 7, "kind": "shm.write", "obj": obj,
             "offset": offset, "value": 42, "data": "KgAAAAAAAAA="}
        )  # fmt: skip
    narrator = Narrator(HEADER, lang=lang)
    return [line for e in events for line in narrator.feed(e) if "42" in line]


def test_a_named_cell_is_told_by_its_name() -> None:
    names = [["slots", 0, 5], ["in", 5, 1]]
    said = _said(names, [16, 40, 48])
    assert "writes buffer.slots[2] = 42" in said[0], said
    assert "writes buffer.in = 42" in said[1], said
    assert "writes buffer[6] = 42" in said[2], said  # (not named)
    assert "buffer.in에 씀 = 42" in _said(names, [40], lang="ko")[0]


def test_a_cell_named_like_its_object_keeps_its_index() -> None:
    said = _said([["counter", 0, 1], ["spare", 1, 3]], [0], obj="counter")
    assert "writes counter[0] = 42" in said[0], said


def test_hostile_or_malformed_names_are_inert_or_skipped() -> None:
    said = _said([["in\x1b[31m", 5, 1], ["x", "5", 1], "junk", ["y", 6]], [40, 48])
    assert "\x1b" not in "".join(said)
    assert "writes buffer.in\\x1b[31m = 42" in said[0], said  # the byte formatter's escape
    assert "writes buffer[6] = 42" in said[1], said


def test_a_hostile_run_of_names_costs_no_more_than_the_cells() -> None:
    """A name's count and start come from the trace: a run of 10**12 cells, or one that
    starts 10**12 cells before the object, names only the cells the object has (it hung
    the log, the diagram and the handouts, walking every one of the run's cells)."""
    from ipcviz.mechanisms.posix_shm.diagram import cell_names
    from ipcviz.mechanisms.posix_shm.state import ShmObj

    huge = 10**12
    names = [["x", -huge, huge + 2], ["y", 7, huge], ["z", 3, -huge]]
    said = _said(names, [0, 8, 24, 56])
    assert f"writes buffer.x[{huge}] = 42" in said[0], said
    assert f"writes buffer.x[{huge + 1}] = 42" in said[1], said
    assert "writes buffer[3] = 42" in said[2], said  # (a negative count names nothing)
    assert "writes buffer.y[0] = 42" in said[3], said
    obj = ShmObj(name="buffer", type="posix_shm", cells=8, info={"names": names})
    assert cell_names(obj) == [f"[{huge}]", f"[{huge + 1}]", "2", "3", "4", "5", "6", "y[0]"]


def test_a_cell_named_twice_is_told_as_the_diagram_labels_it() -> None:
    """Overlapping names (only a trace can make them): the log names a cell as the diagram
    labels it, by the later name (the log said ``a[1]`` under a cell labelled ``b``)."""
    from ipcviz.mechanisms.posix_shm.diagram import cell_names
    from ipcviz.mechanisms.posix_shm.state import ShmObj

    names = [["a", 0, 2], ["b", 1, 1]]
    obj = ShmObj(name="buffer", type="posix_shm", cells=8, info={"names": names})
    assert cell_names(obj)[:2] == ["a[0]", "b"]
    said = _said(names, [0, 8])
    assert "writes buffer.a[0] = 42" in said[0], said
    assert "writes buffer.b = 42" in said[1], said
