"""A pipe's kernel reading copies only its first ``DATA_CAP`` bytes: every "+N B" after the
bytes shown counts what the pipe holds beyond them (the reading's ``nbytes``), never only
the rest of the copy (``pipe-full-closed`` showed ``nbytes=49152`` beside ``…(+4066 B)``)."""

from __future__ import annotations

import base64
import re

from ipcviz.engine.probing import DATA_CAP
from ipcviz.export.perfetto import _Converter
from ipcviz.mechanisms.pipe import diagram as pipe_diagram
from ipcviz.mechanisms.pipe.view import pipe_lines
from ipcviz.model.reducer import apply_all
from ipcviz.model.state import State
from ipcviz.narrate.headless import Narrator

HELD = 49152
START = {"seq": 0, "t": 0, "pid": 10, "kind": "proc.start", "name": "prog"}
DECLARE = {"seq": 1, "t": 0, "pid": 0, "kind": "obj.declare", "obj": "p", "type": "pipe",
           "kernel_name": "pipe:[9]"}  # fmt: skip
FOUND = {**DECLARE, "discovered": True, "outside": True}
READING = {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.pipe", "obj": "p",
           "nbytes": HELD, "capacity": 65536,
           "data": base64.b64encode(b"x" * DATA_CAP).decode()}  # fmt: skip


def _text(lines: list) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def _rest(said: str) -> tuple[int, int]:
    """The bytes shown before ``…(+N B)`` (the diagram: ``…+N B``) and N."""
    m = re.search(r"(x+)…\(?\+(\d+) B", said)
    assert m, said
    return len(m.group(1)), int(m.group(2))


def test_the_panel_counts_the_bytes_beyond_those_shown_from_the_readings_nbytes() -> None:
    for declare in (DECLARE, FOUND):
        state = apply_all(State(), [START, declare, READING])
        for width in (58, 118):
            shown = _text(pipe_lines(state, state.objects["p"], width))
            line = next(x for x in shown.splitlines() if "kernel bytes:" in x)
            n, rest = _rest(line)
            assert n + rest == HELD, line


def test_the_first_reading_narrated_and_the_perfetto_args_count_the_same() -> None:
    narrator = Narrator({"scenario": {"id": "attach"}}, "en")
    told = [x for e in [START, FOUND, READING] for x in narrator.feed(e)]
    line = next(x for x in told if "kernel reading of p" in x)
    n, rest = _rest(line)
    assert f"holds {HELD} B" in line and n + rest == HELD, line
    converter = _Converter({"scenario": {"id": "attach"}})
    args = [x.get("args", {}) for e in [START, FOUND, READING] for x in converter.feed(e)]
    data = next(a["data"] for a in args if a.get("nbytes") == HELD)
    n, rest = _rest(data)
    assert n + rest == HELD, data


def test_a_write_of_fewer_bytes_still_counts_its_own_rest() -> None:
    """A payload with no ``nbytes`` (an operation's whole bytes): the count is its own."""
    from ipcviz import bytefmt

    assert bytefmt.escape(b"abcdef", 2) == "ab…(+4 B)"
    assert bytefmt.escape(b"abcdef", 2, whole=10) == "ab…(+8 B)"
    assert bytefmt.escape(b"ab", None, whole=10) == "ab…(+8 B)"
    assert bytefmt.escape(b"ab", 8, whole=2) == "ab"


def test_the_diagram_tube_counts_exactly_the_bytes_it_does_not_draw() -> None:
    """10050 bytes in a tube of 100 cells: the label with one digit fewer than the
    longest used to claim one byte more than was left out."""
    for held in (10050, 49152, 101):
        write = {"seq": 2, "t": 1, "pid": 10, "kind": "pipe.write", "obj": "p", "n": held,
                 "data": base64.b64encode(b"x" * held).decode()}  # fmt: skip
        state = apply_all(State(), [START, DECLARE, write])
        rows = pipe_diagram.draw(state, state.objects["p"], 50, 4, False)
        inner = "".join("".join(seg.text for seg in line) for line in rows[1:-1])
        n, rest = _rest(inner)
        assert n + rest == held, inner
