"""Bytes a watched program moved that the trace does not hold (strace prints 65536 bytes
of a call at most) are said to be not recorded, in every view that shows data: never
``""``, which reads as nothing moved, and never drawn as if they were zeros."""

from __future__ import annotations

import json
from pathlib import Path

from ipcviz.events.codec import payload
from ipcviz.events.trace import TraceReader
from ipcviz.mechanisms.pipe import diagram as pipe_diagram
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
            assert "not recorded (drawn as ·)" in _text(pipe_lines(state, pipe, 100))
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
