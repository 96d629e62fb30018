"""Bytes a watched program moved that the trace does not hold (strace prints 65536 bytes
of a call at most) are said to be not recorded, in every view that shows data: never
``""``, which reads as nothing moved, and never drawn as if they were zeros."""

from __future__ import annotations

import json
from pathlib import Path

from ipcviz import bytefmt
from ipcviz.draw import render as r
from ipcviz.events.codec import payload
from ipcviz.events.trace import TraceReader
from ipcviz.mechanisms.pipe import diagram as pipe_diagram
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.pipe.view import pipe_lines
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools, said, watch


def _text(lines: list) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


@needs_tools
def test_pipe_bytes_past_straces_cut_are_said_not_recorded(tmp_path: Path) -> None:
    """Before: ``wrote 65536 B to pipe:[…]: ""`` and ``read 4096 B …: ""`` while 'x'
    moved, a pipe drawn as holding NUL bytes, and the same ``""`` in the Perfetto export."""
    binary = compile_c(tmp_path, "big", programs.BIG_WRITE)
    done, events = watch(tmp_path, binary)
    report = {w[0]: int(w[1]) for w in said(events)}
    assert report == {"W": 200000, "R": 200000}
    moves = [e for e in events if e["kind"] in ("pipe.write", "pipe.read") and e["n"]]
    assert sum(e["n"] for e in moves if e["kind"] == "pipe.write") == 200000
    cut = [e for e in moves if len(payload(e)) < e["n"]]
    assert cut  # (strace printed 65536 bytes at most: the rest is not in the trace)
    # the headless log: a line per move, none of them with an empty quote
    log = [line for line in done.stdout.splitlines() if " B to pipe:[" in line or "B from" in line]
    assert len(log) == len(moves)
    assert not [line for line in log if line.endswith(': ""')]
    assert sum("not recorded)" in line for line in log) == len(cut)
    # the same in Korean (a replay of the trace)
    trace = tmp_path / "run.jsonl"
    ko = ipcviz("replay", "--headless", "--lang", "ko", str(trace))
    assert "(바이트가 기록되지 않음)" in ko.stdout and ': ""' not in ko.stdout
    # the pipe's detail and diagram once it holds bytes not recorded
    header = TraceReader.open(trace).header
    state, seen = State(header=header), False
    for e in events:
        apply(state, e)
        pipe = state.objects.get(e.get("obj", ""))
        if e in cut and e["kind"] == "pipe.write" and pipe is not None and pipe.nbytes:
            held = min(pipe.nbytes, e["n"] - len(payload(e)))
            drawn = _text(pipe_lines(state, pipe, 100))
            assert f"not recorded (drawn as {bytefmt.UNRECORDED})" in drawn
            assert "B not recorded" in pipe_diagram.caption(state, pipe), held
            seen = True
            break
    assert seen
    # the Perfetto export
    out = tmp_path / "run.perfetto.json"
    assert ipcviz("export", "--format", "perfetto", "-o", str(out), str(trace)).returncode == 0
    args = [
        ev.get("args", {})
        for ev in json.loads(out.read_text())["traceEvents"]
        if str(ev.get("name", "")).startswith("pipe.")
    ]
    assert any(a.get("data") == "(bytes not recorded)" and a.get("not_recorded") for a in args)
    assert not [a for a in args if a.get("data") == '""' and a.get("n")]


def test_queue_message_bytes_past_the_cut_are_said_not_recorded() -> None:
    """A message longer than what was recorded of it (a queue with a large
    ``mq_msgsize``: strace prints 65536 bytes of a call at most): the rest is said not
    recorded, in English and Korean, not shown as if the message were that short."""
    from ipcviz.events.codec import b64
    from ipcviz.narrate.headless import Narrator

    events = [
        {"seq": 0, "t": 0, "pid": 10, "kind": "proc.start", "name": "prog"},
        {"seq": 1, "t": 1, "pid": 10, "kind": "obj.declare", "obj": "mq:/q", "type": "posix_mq",
         "kernel_name": "/q", "max_messages": 2, "max_message_size": 100000},
        {"seq": 2, "t": 2, "pid": 10, "kind": "mq.send", "obj": "mq:/q", "prio": 0,
         "size": 100000, "data": b64(b"ab")},
        {"seq": 3, "t": 3, "pid": 10, "kind": "mq.recv", "obj": "mq:/q", "prio": 0,
         "size": 100000, "data": ""},
    ]  # fmt: skip
    for lang, part, none in (
        ("en", '"ab" (+99998 B not recorded)', "(bytes not recorded)"),
        ("ko", '"ab" (+99998 B는 기록되지 않음)', "(바이트가 기록되지 않음)"),
    ):
        narrator = Narrator({"scenario": {"id": "program"}}, lang)
        told = [line for e in events for line in narrator.feed(e)]
        assert part in told[-2] and none in told[-1], told


def test_queue_message_bytes_past_the_cut_are_drawn_as_not_recorded() -> None:
    """The same message, queued: before, the panel and the diagram drew it as
    ``"a\\0\\0\\0…"``, zero bytes the program never sent (the model's padding). Now its
    bytes past the cut are ``bytefmt.UNRECORDED``, and the panel says how many."""
    from ipcviz.events.codec import b64
    from ipcviz.mechanisms.posix_mq import diagram as queue_diagram
    from ipcviz.mechanisms.posix_mq.view import queue_lines

    events = [
        {"seq": 0, "t": 0, "pid": 10, "kind": "proc.start", "name": "prog"},
        {"seq": 1, "t": 1, "pid": 10, "kind": "obj.declare", "obj": "mq:/q", "type": "posix_mq",
         "kernel_name": "/q", "max_messages": 2, "max_message_size": 100000},
        {"seq": 2, "t": 2, "pid": 10, "kind": "mq.send", "obj": "mq:/q", "prio": 0,
         "size": 100000, "data": b64(b"a\0")},
    ]  # fmt: skip
    state = State()
    for e in events:
        apply(state, e)
    queue = state.objects["mq:/q"]
    unknown = bytefmt.UNRECORDED
    panel = _text(queue_lines(state, queue, 100))
    assert '"a\\0' + unknown * 8 in panel and "\\0\\0" not in panel  # (a zero it did send)
    assert f"99998 B of them not recorded (drawn as {unknown})" in panel
    drawn = _text(queue_diagram.draw(state, queue, 60, 4, False))
    assert '"a\\0' + unknown * 10 in drawn and "\\0\\0" not in drawn


@needs_tools
def test_bytes_not_recorded_are_drawn_apart_from_zero_bytes(tmp_path: Path) -> None:
    """200000 ``x`` (strace records 65536 of them), then 16 zero bytes the trace holds.
    Before: the model held zeros for the bytes not recorded, and the strip and the
    diagram drew them as ``·``, as the 16 zero bytes the program did write: a byte the
    trace does not know read as a byte the kernel had. Now each is ``bytefmt.UNRECORDED``
    wherever the pipe is drawn; the oracle is the writer's stream (offset ``o`` of the
    pipe's bytes: recorded ``x``, not recorded, or a zero), whatever the reads' timing."""
    binary = compile_c(tmp_path, "big_zeros", programs.BIG_THEN_ZEROS)
    _, events = watch(tmp_path, binary)
    report = {w[0]: w[1:3] for w in said(events)}
    assert report == {"W": ["200000", "16"], "R": ["200016", ""]}
    # (the write is shown in the pieces the reads took while it went on)
    big = [e for e in events if e["kind"] == "pipe.write" and e.get("size") == 200000]
    assert sum(e["n"] for e in big) == 200000
    recorded = sum(len(payload(e)) for e in big)  # (the first bytes: strace's cut)
    assert recorded < 200000
    obj = big[0]["obj"]

    def cell(o: int) -> str:
        return "x" if o < recorded else bytefmt.UNRECORDED if o < 200000 else "·"

    state = State(header=TraceReader.open(tmp_path / "run.jsonl").header)
    zeros = next(e for e in events if e["kind"] == "pipe.write" and e["n"] == 16)
    for e in events:
        apply(state, e)
        pipe = state.objects.get(obj)
        if e["kind"] not in ("pipe.write", "pipe.read") or e["obj"] != obj:
            continue
        assert isinstance(pipe, PipeObj)
        if pipe.deficit:  # (read before its write's record: the pipe holds none)
            continue
        expected = "".join(cell(o) for o in range(pipe.read, pipe.read + pipe.nbytes))
        strip = r.Lines(1000)
        r.byte_strip(strip, state, pipe.chunks, 100, pipe.nbytes)
        assert _text(strip.finish()).replace("\n", "") == expected
        tube = pipe_diagram.draw(state, pipe, 1000, 102, False)[1:-1]  # (no walls)
        assert _text(tube).replace("\n", "").startswith(expected)
        if e is zeros:  # the child waits for the go: the zeros are there, after bytes unseen
            assert expected.endswith(bytefmt.UNRECORDED + "·" * 16)
            held = pipe.nbytes - 16
            said_line = f"{held} B of them not recorded (drawn as {bytefmt.UNRECORDED})"
            assert said_line in _text(pipe_lines(state, pipe, 100))
