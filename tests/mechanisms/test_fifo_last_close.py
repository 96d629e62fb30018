"""A FIFO's bytes are dropped by the kernel when its last open end closes (the pipe behind
the name is freed); the next open finds it empty. Review finding: the model keeps them, so
a later end of file is an ``order.conflict`` and ``ipcviz verify`` says illegal. A traced
command like ``while :; do cat FIFO; done`` beside a Python writer hits it at random.

But a process inside ``open()`` of the FIFO at that moment already holds it (fs/pipe.c
``fifo_open`` counts it before it waits for its partner): then the bytes stay. The events
cannot always tell, so the model keeps both worlds until a read decides (PipeObj.gone)."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ipcviz.i18n import speaking
from ipcviz.mechanisms.pipe import diagram as pipe_diagram
from ipcviz.mechanisms.pipe import kernel as pipe_kernel
from ipcviz.mechanisms.pipe import view as pipe_view
from ipcviz.mechanisms.pipe.model import MAX_CUTS
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.model.legal import violation
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.narrate.headless import Narrator
from ipcviz.tracer import codes as C
from tests.mechanisms.helpers import by_kind, run_file
from tests.truth.test_linearize import MS, Harness, rec

DISCARD = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("fifo-discard", "a FIFO's bytes go with its last end", timeout=30)
    f = scenario.fifo("data")
    written = scenario.semaphore("written", 0)
    closed = scenario.semaphore("closed", 0)

    @scenario.process("reader")
    def reader(ctx):
        f.open_read()
        written.wait()  # the writer wrote 10 B and closed its end
        f.close_read()  # the last end closes: the kernel drops the 10 B
        closed.post()
        f.open_read()
        ctx.report("got", f.read(4096).decode())  # end of file: a new, empty pipe
        f.close_read()

    @scenario.process("writer")
    def writer(ctx):
        f.open_write()
        f.write(b"0123456789")
        f.close_write()
        written.post()
        closed.wait()
        f.open_write()
        f.close_write()

    @scenario.check("the reader read end of file")
    def eof(run):
        return run.report("reader", "got") == ""
"""


def test_a_fifos_bytes_go_when_its_last_end_closes(tmp_path: Path) -> None:
    result, _, events = run_file(tmp_path, "discard", DISCARD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert by_kind(events, "order.conflict") == []
    done = subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(tmp_path / "discard.jsonl")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout


# -- an open in flight at the last close keeps the bytes -------------------------------

IN_FLIGHT = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("fifo-in-flight", "an open in flight keeps a FIFO's bytes", timeout=30)
    f = scenario.fifo("data")
    written = scenario.semaphore("written", 0)
    reopen = scenario.semaphore("reopen", 0)
    #: where the kernel has a process asleep in a blocking open() of a FIFO
    OPEN_WAITS = ("wait_for_partner", "fifo_open")

    @scenario.process("holder")
    def holder(ctx):
        f.open_read()
        written.wait()  # the writer wrote 10 B and closed its end
        # proof, not luck: the late reader is asleep in open(), so it holds the FIFO
        ctx.report("late_wchan", ctx.wait_for_wchan(ctx.pid_of("late"), OPEN_WAITS, 20.0))
        f.close_read()  # the last end the model saw closes: the 10 B may be gone
        reopen.post()

    @scenario.process("late")
    def late(ctx):
        written.wait()
        f.open_read()  # no writer now: it waits in the kernel, counted as a reader
        got = b""
        while chunk := f.read(4096):
            got += chunk
        ctx.report("got", got.decode())
        f.close_read()

    @scenario.process("writer")
    def writer(ctx):
        f.open_write()
        f.write(b"0123456789")
        f.close_write()
        written.post()
        written.post()
        reopen.wait()
        f.open_write()  # wakes the late reader; the pipe is the one it kept
        f.close_write()

    @scenario.check("the late reader read the bytes written before the last close")
    def kept(run):
        return run.report("late", "got") == "0123456789"
"""


def _verify(trace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipcviz", "verify", str(trace)], capture_output=True, text=True
    )


def test_an_open_in_flight_at_the_last_close_keeps_the_bytes(tmp_path: Path) -> None:
    result, _, events = run_file(tmp_path, "in_flight", IN_FLIGHT)
    assert result.returncode == 0, result.stdout + result.stderr
    reports = {e["key"]: e["value"] for e in by_kind(events, "report")}
    assert any(w in reports["late_wchan"] for w in ("wait_for_partner", "fifo_open"))
    assert by_kind(events, "order.conflict") == []
    done = _verify(tmp_path / "in_flight.jsonl")
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout


# -- the rules on hand-built events ------------------------------------------------------


def _ev(seq: int, kind: str, pid: int = 0, **fields: Any) -> dict[str, Any]:
    return {"t": seq * 1000, "seq": seq, "pid": pid, "kind": kind, **fields}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _read(seq: int, data: bytes, pid: int = 1) -> dict[str, Any]:
    return _ev(seq, "pipe.read", pid, obj="f", n=len(data), data=_b64(data))


def _closed_with_bytes(kind: str = "fifo") -> list[dict[str, Any]]:
    """A reader (1) and a writer (2); 10 B written; both close, the reader last; then both
    open again, and the writer writes "ab"."""
    return [
        _ev(0, "obj.declare", obj="f", type=kind, capacity=16),
        _ev(1, "proc.start", 1, name="r"),
        _ev(2, "proc.start", 2, name="w"),
        _ev(3, "pipe.open", 1, obj="f", end=0, fd=3),
        _ev(4, "pipe.open", 2, obj="f", end=1, fd=3),
        _ev(5, "pipe.write", 2, obj="f", n=10, size=10, data=_b64(b"0123456789")),
        _ev(6, "pipe.close", 2, obj="f", end=1),
        _ev(7, "pipe.close", 1, obj="f", end=0),  # the last end: the 10 B may be gone
        _ev(8, "pipe.open", 1, obj="f", end=0, fd=3),
        _ev(9, "pipe.open", 2, obj="f", end=1, fd=3),
        _ev(10, "pipe.write", 2, obj="f", n=2, size=2, data=_b64(b"ab")),
    ]


def _state(events: list[dict[str, Any]]) -> State:
    state = State()
    for e in events:
        assert violation(state, e) is None, e
        apply(state, e)
    return state


def test_both_worlds_are_legal_until_a_read_decides() -> None:
    state = _state(_closed_with_bytes())
    f = state.objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, f.gone, f.stale, f.gone_seq) == (12, [10], 10, 7)
    assert violation(state, _read(11, b"0123")) is None  # kept: an open was in flight
    assert violation(state, _read(11, b"ab")) is None  # gone: a new pipe
    assert violation(state, _read(11, b"xy")) is not None  # neither
    assert violation(state, _read(11, b"0123456789abc")) is not None
    # a write's room is the dropped world's: 16 - 2, not 16 - 12
    assert violation(state, _ev(11, "pipe.write", 2, obj="f", n=14, size=14)) is None
    assert violation(state, _ev(11, "pipe.write", 2, obj="f", n=15, size=15)) is not None

    kept = copy.deepcopy(state)
    apply(kept, _read(11, b"0123"))
    k = kept.objects["f"]
    assert isinstance(k, PipeObj)
    assert (k.contents(), k.gone, k.dropped) == (b"456789ab", [], 0)
    assert violation(kept, _read(12, b"ab")) is not None  # decided: the old bytes come first

    gone = copy.deepcopy(state)
    apply(gone, _read(11, b"a"))
    g = gone.objects["f"]
    assert isinstance(g, PipeObj)
    assert (g.contents(), g.nbytes, g.gone, g.dropped, g.dropped_seq) == (b"b", 1, [], 10, 11)


def test_a_read_both_worlds_explain_decides_nothing() -> None:
    events = _closed_with_bytes()
    events[5]["data"], events[10]["data"] = _b64(b"aaaaaaaaaa"), _b64(b"aa")
    state = _state(events)
    apply(state, _read(11, b"a"))  # the first old byte, or the first new one
    f = state.objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, f.gone) == (11, [10])  # world "gone" still starts 10 bytes in
    assert violation(state, _read(12, b"a")) is None
    apply(state, _read(12, b"a"))  # world "gone" is now empty: its end of file is legal
    assert violation(state, _ev(13, "pipe.close", 2, obj="f", end=1)) is None
    apply(state, _ev(13, "pipe.close", 2, obj="f", end=1))
    assert violation(state, _read(14, b"")) is None
    apply(state, _read(14, b""))
    assert (f.nbytes, f.gone, f.dropped, f.eof) == (0, [], 10, True)


def test_end_of_file_after_the_last_close_drops_the_bytes() -> None:
    events = _closed_with_bytes()[:-1]
    events.append(_ev(10, "pipe.close", 2, obj="f", end=1))
    state = _state(events)
    assert violation(state, _read(11, b"")) is None
    apply(state, _read(11, b""))
    f = state.objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, f.contents(), f.gone, f.dropped) == (0, b"", [], 10)


def test_an_anonymous_pipe_nobody_holds_keeps_its_bytes() -> None:
    state = _state(_closed_with_bytes("pipe"))
    f = state.objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, f.gone) == (12, [])
    assert violation(state, _read(11, b"ab")) is not None


def test_a_dead_process_closes_the_last_end_too() -> None:
    events = _closed_with_bytes()[:7]
    events.append(_ev(7, "proc.exit", 1, code=0))
    state = _state(events)
    f = state.objects["f"]
    assert isinstance(f, PipeObj)
    assert f.gone == [10]


def test_a_hand_made_trace_of_many_last_closes_keeps_a_bounded_list_of_cuts() -> None:
    """Each last close on unread bytes is one more world every read checks: a trace of
    20,000 made ``verify`` run for minutes. Only the latest ``MAX_CUTS`` are kept."""
    events = [
        _ev(0, "obj.declare", obj="f", type="fifo", capacity=1 << 20),
        _ev(1, "proc.start", 1, name="r"),
        _ev(2, "proc.start", 2, name="w"),
    ]
    for i in range(3 * MAX_CUTS):
        seq = 3 + 5 * i
        events += [
            _ev(seq, "pipe.open", 1, obj="f", end=0, fd=3),
            _ev(seq + 1, "pipe.open", 2, obj="f", end=1, fd=3),
            _ev(seq + 2, "pipe.write", 2, obj="f", n=1, size=1, data=_b64(b"x")),
            _ev(seq + 3, "pipe.close", 2, obj="f", end=1),
            _ev(seq + 4, "pipe.close", 1, obj="f", end=0),  # the last end, on 1 B more
        ]
    f = _state(events).objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, len(f.gone), f.gone[-1]) == (3 * MAX_CUTS, MAX_CUTS, 3 * MAX_CUTS)


def test_verify_says_a_hand_written_end_of_file_after_the_last_close_is_legal(
    tmp_path: Path,
) -> None:
    events = _closed_with_bytes()[:-1]
    events += [_ev(10, "pipe.close", 2, obj="f", end=1), _read(11, b"")]
    header = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "hand"}}
    trace = tmp_path / "hand.jsonl"
    trace.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    done = _verify(trace)
    assert done.returncode == 0 and "legal history" in done.stdout, done.stdout
    # the same end of file with the bytes kept (an anonymous pipe) is no legal history
    events[0]["type"] = "pipe"
    trace.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    done = _verify(trace)
    assert done.returncode != 0 and "end of file read while 10 B were waiting" in done.stdout


# -- what the kernel side and the views say ------------------------------------------------


def test_a_kernel_reading_of_either_world_is_no_drift() -> None:
    f = _state(_closed_with_bytes()).objects["f"]
    assert isinstance(f, PipeObj)
    for nbytes in (12, 2):  # kept, or gone: both agree with the model
        _, pairs = pipe_kernel.compare(f, {"nbytes": nbytes, "capacity": 16})
        assert [(m, k) for _, m, k in pairs] == [(nbytes, nbytes)]
    _, pairs = pipe_kernel.compare(f, {"nbytes": 5, "capacity": 16})
    assert [(m, k) for _, m, k in pairs] == [(12, 5)]


def _text(lines: list[Any]) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def test_the_panel_and_the_diagram_show_the_bytes_that_may_be_gone() -> None:
    state = _state(_closed_with_bytes())
    f = state.objects["f"]
    assert isinstance(f, PipeObj)
    lines = pipe_view.pipe_lines(state, f, 60)
    assert "10 B may be gone: the last end closed" in _text(lines)
    cells = [
        seg for line in lines for seg in line if seg.text and set(seg.text) <= set("0123456789ab")
    ]
    faint = "".join(seg.text for seg in cells if seg.style is not None and seg.style.dim)
    assert faint == "0123456789"  # the old bytes are faint, the new ones are not
    assert "10 B may be gone" in pipe_diagram.caption(state, f)
    drawn = [c for line in pipe_diagram.draw(state, f, 20, 3, False) for c in line]
    tube = [(ch, bool(seg.style and seg.style.dim)) for seg in drawn for ch in seg.text]
    tube = [x for x in tube if x[0] in "0123456789ab"]
    assert tube == [(ch, True) for ch in "0123456789"] + [("a", False), ("b", False)]
    with speaking("ko"):
        assert "10 B는 사라졌을 수 있음: 마지막 끝이 닫힘" in _text(
            pipe_view.pipe_lines(state, f, 60)
        )
    apply(state, _read(11, b"ab"))
    text = _text(pipe_view.pipe_lines(state, f, 60))
    assert "may be gone" not in text
    assert "10 B were freed at a last close (a read showed them gone)" in text


def test_the_narration_says_the_bytes_may_be_gone_and_then_were() -> None:
    events = _closed_with_bytes()[:-1]
    events += [_ev(10, "pipe.close", 2, obj="f", end=1), _read(11, b"")]
    narrator = Narrator({"format": "ipcviz-trace", "version": 1}, lang="en")
    said = [line for e in events for line in narrator.feed(e)]
    assert any(
        "closes the read end of f, its last open end: the 10 B in it may be gone" in x for x in said
    ), said
    assert any("read EOF from f: the 10 B left at its last close were gone" in x for x in said)
    narrator = Narrator({"format": "ipcviz-trace", "version": 1}, lang="ko")
    said = [line for e in events for line in narrator.feed(e)]
    assert any("열린 마지막 끝이라 안에 있던 10 B는 사라졌을 수 있음" in x for x in said), said


def _reopened_after_a_last_close(old: bytes) -> tuple[Harness, list[Any], list[Any]]:
    """FIFO ``f`` between a reader (pid 1) and a writer (pid 2): the writer writes ``old``
    and closes, the reader closes the last end (semaphores pin that close between the two
    phases in real time), and both open ``f`` again at 6 ms. The engine's harness (no
    process started yet) and each one's records so far."""
    h = Harness(
        [
            {"obj": "f", "type": "fifo", "capacity": 65536, "path": "/f"},
            {"obj": "closed", "type": "posix_sem", "value": 0},
            {"obj": "again", "type": "posix_sem", "value": 0},
        ]
    )
    reader = [
        rec(C.PIPE_OPEN, 1, 0, 3),
        rec(C.SEM_WAIT_BEGIN, 1.5, obj=1),
        rec(C.SEM_WAIT, 3.4, obj=1),
        rec(C.PIPE_CLOSE, 4, 0),  # the last end: ``old`` may be gone
        rec(C.SEM_POST, 4.2, obj=2),
        rec(C.PIPE_OPEN, 6, 0, 3),
    ]
    writer = [
        rec(C.PIPE_OPEN, 1, 1, 3),
        rec(C.PIPE_WRITE, 2, len(old), len(old), old),
        rec(C.PIPE_CLOSE, 3, 1),
        rec(C.SEM_POST, 3.2, obj=1),
        rec(C.SEM_WAIT_BEGIN, 3.3, obj=2),
        rec(C.SEM_WAIT, 4.5, obj=2),
        rec(C.PIPE_OPEN, 6, 1, 3),
    ]
    return h, reader, writer


def test_the_engine_orders_writes_after_a_last_close_by_what_was_read() -> None:
    """Two writers after the last close, stamped in the other order than the reader read
    their bytes: in the world where the old bytes are gone, "bb" goes first. (Semaphores
    pin the last close between the two phases in real time.)"""
    h, reader, writer = _reopened_after_a_last_close(b"0123456789")
    h.start(1, 2, 3)
    h.lin.started(3, 5 * MS)  # the second writer starts after the last close
    h.lin.add_records(
        1, [*reader, rec(C.PIPE_READ_BEGIN, 7, 4096), rec(C.PIPE_READ, 9, 4, 0, b"bbcc")]
    )
    h.lin.add_records(
        2, [*writer, rec(C.PIPE_WRITE_BEGIN, 7, 2), rec(C.PIPE_WRITE, 8, 2, 2, b"bb")]
    )
    h.lin.add_records(
        3,
        [
            rec(C.PIPE_OPEN, 6, 1, 4),
            rec(C.PIPE_WRITE_BEGIN, 7, 2),
            rec(C.PIPE_WRITE, 7.5, 2, 2, b"cc"),
        ],
    )
    h.lin.flush()
    assert h.lin.conflicts == 0
    writes = [e["_raw"] for e in h.out if e["kind"] == "pipe.write"]
    assert writes == [b"0123456789", b"bb", b"cc"]
    f = h.model.objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, f.gone, f.dropped) == (0, [], 10)


def test_a_read_that_overlaps_a_write_of_the_same_bytes_decides_nothing_too_early() -> None:
    """ "tick" left at the last close; after the reopen a write of "tick" overlaps the
    reader's read of "tick", then end of file. Placed first, the read would say the old
    "tick" was kept (the new one then waits at the end of file: a false conflict); the
    write goes first, so the read is legal in both worlds and the end of file decides."""
    h, reader, writer = _reopened_after_a_last_close(b"tick")
    h.start(1, 2)
    h.lin.add_records(
        1,
        [
            *reader,
            rec(C.PIPE_READ_BEGIN, 7, 4096),
            rec(C.PIPE_READ, 9, 4, 0, b"tick"),
            rec(C.PIPE_READ_BEGIN, 9.5, 4096),
            rec(C.PIPE_READ, 11, 0, 0, b""),
        ],
    )
    h.lin.add_records(
        2,
        [
            *writer,
            rec(C.PIPE_WRITE_BEGIN, 6.5, 4),
            rec(C.PIPE_WRITE, 8, 4, 4, b"tick"),
            rec(C.PIPE_CLOSE, 10, 1),
        ],
    )
    h.lin.flush()
    assert h.lin.conflicts == 0
    f = h.model.objects["f"]
    assert isinstance(f, PipeObj)
    assert (f.nbytes, f.gone, f.dropped, f.eof) == (0, [], 4, True)
