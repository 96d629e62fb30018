"""The reducer: deterministic, tolerant of operations in flight, safe with hostile traces."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

from ipcviz.model.reducer import MAX_SHM, apply
from ipcviz.model.state import State
from ipcviz.replay import TraceIndex


def ev(seq: int, kind: str, pid: int = 1, **fields) -> dict:
    return {"t": seq * 1000, "seq": seq, "pid": pid, "kind": kind, **fields}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pipe_run() -> list[dict]:
    return [
        ev(0, "obj.declare", 0, obj="p", type="pipe", capacity=65536),
        ev(1, "proc.start", 1, name="w"),
        ev(2, "proc.start", 2, name="r"),
        ev(3, "pipe.write", 1, obj="p", n=5, size=5, data=b64(b"hello")),
        # the reader's record arrives before the second write's: bytes "in flight"
        ev(4, "pipe.read", 2, obj="p", n=8, data=b64(b"hello wo")),
        ev(5, "pipe.write", 1, obj="p", n=6, size=6, data=b64(b" world")),
        ev(6, "pipe.read", 2, obj="p", n=3, data=b64(b"rld")),
        ev(7, "pipe.read", 2, obj="p", n=0, data=""),
    ]


def test_a_read_ahead_of_its_write_record_is_settled_when_the_write_arrives():
    state = State()
    for e in pipe_run()[:5]:
        apply(state, e)
    p = state.objects["p"]
    assert p.nbytes == 0 and p.deficit == 3
    for e in pipe_run()[5:]:
        apply(state, e)
    assert (p.nbytes, p.deficit, p.written, p.read, p.eof) == (0, 0, 11, 11, True)


def test_checkpointed_states_equal_applying_from_the_start(tmp_path: Path):
    events = pipe_run() * 1
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "pipe-run"}}
    trace = tmp_path / "pipe-run.jsonl"
    trace.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    index = TraceIndex.open(trace, every=3).build()
    for i in range(-1, len(events)):
        fresh = State(header=index.header)
        for e in events[: i + 1]:
            apply(fresh, e)
        assert index.state_at(i) == fresh


def test_apply_is_deterministic():
    a, b = State(), State()
    for e in pipe_run():
        apply(a, copy.deepcopy(e))
        apply(b, copy.deepcopy(e))
    assert a == b


def test_a_trace_cannot_make_the_model_allocate_a_huge_segment():
    state = State()
    apply(state, ev(0, "obj.declare", 0, obj="x", type="posix_shm", size=10**12, cells=10**11))
    apply(state, ev(1, "shm.write", 1, obj="x", offset=10**11, value=1, data=b64(b"\x01")))
    apply(state, ev(2, "shm.write", 1, obj="x", offset=8, value=7, data=b64(b"\x07" + bytes(7))))
    shm = state.objects["x"]
    assert len(shm.data) == MAX_SHM and shm.cells == MAX_SHM // 8
    assert shm.data[8] == 7 and shm.last_writer[1] == 1


def test_step_mode_off_keeps_the_narrations_the_presenter_has_not_continued():
    """Two processes narrate while step mode holds them; step mode goes off (the engine
    still holds both narrations: presenter mode); → lets the first go: the screen shows
    the second, whose process is still held. Once the model forgot the holds, the screen
    went on showing the first, and every → named a process no longer waiting."""
    state = State()
    for e in [
        ev(0, "proc.start", 1, name="a"),
        ev(1, "proc.start", 2, name="b"),
        ev(2, "control", 0, action="present", on=True),
        ev(3, "control", 0, action="step_mode", on=True),
        ev(4, "narrate", 1, step="first"),
        ev(5, "gate.wait", 1, op="narrate", code=1),
        ev(6, "narrate", 2, step="second"),
        ev(7, "gate.wait", 2, op="narrate", code=1),
        ev(8, "control", 0, action="step_mode", on=False),
    ]:
        apply(state, e)
    assert state.presented_pid() == 1
    assert state.procs[2].gated_op == "narrate"
    apply(state, ev(9, "gate.step", 1, op="narrate", by="presenter"))
    assert state.presented_pid() == 2
    assert state.procs[2].gated_op == "narrate" and state.procs[1].gated_op is None
