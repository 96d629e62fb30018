"""The diagram's box captions at 80x24: the top edge of a box about 30 cells wide cut
them after the object's name and type ("╭─ p pipe ─ 0/65536 B · EOF  rem…", "╭─ seg
posix_shm ─ 8 cel…"), in every built-in scenario. A caption the top edge has no room for
now goes on the bottom edge, in the first of its forms that fits (a reading's age kept),
"removed" before it; the type is left out rather than cut. Drawn from recorded runs (the
fixture traces) and constructed histories: no timing."""

from __future__ import annotations

import pytest

from ipcviz import i18n
from ipcviz.draw.diagram_layout import diagram_lines
from ipcviz.model.reducer import apply
from ipcviz.model.state import State

from .helpers import TRACES, load
from .test_reading_age import HEADER, _events

#: The diagram's region at 80x24 in the session screen (narration shown; checks shown too).
REGIONS = ((80, 15), (80, 11))


def _edges(lines: list) -> list[str]:
    """Each box's top and bottom edge, from its corner to its end."""
    out = []
    for line in lines:
        text = "".join(seg.text for seg in line)
        for corner, end in (("╭─", "╮"), ("╰─", "╯")):
            at = text.find(corner)
            while at >= 0:
                stop = text.find(end, at)
                out.append(text[at : stop + 1])
                at = text.find(corner, stop)
    return out


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("trace", sorted(p.stem for p in TRACES.glob("*.jsonl")))
def test_no_caption_is_cut_at_80x24(trace: str, lang: str) -> None:
    if trace == "hostile":  # names made of escapes and 300 cells: cut by design
        pytest.skip("a hostile trace's names are cut on purpose")
    header, events = load(trace)
    state = State(header=header)
    cut = []
    was = i18n.get_lang()
    i18n.set_lang(lang)
    try:
        for i, e in enumerate(events):
            apply(state, e)
            for width, height in REGIONS:
                cut += [(i, edge) for edge in _edges(diagram_lines(state, width, height))
                        if "…" in edge]  # fmt: skip
    finally:
        i18n.set_lang(was)
    assert not cut, cut[:5]


def test_a_readings_caption_keeps_its_age_in_a_narrow_box() -> None:
    """A program's segment and semaphore, read 12 ms before the moment shown: in a box
    too narrow for "2 cells · as read (kernel 12ms ago)" the age stays, "kernel" goes."""
    from ipcviz.model.reducer import apply_all

    state = apply_all(State(header=HEADER), _events())
    edges = _edges(diagram_lines(state, 80, 15))
    assert "╭─ shm:/seg posix_shm ───────────╮" in edges, edges
    assert "╰─ 2 cells · as read (12ms ago) ─╯" in edges, edges
    assert "╰─ value 0 (kernel 12ms ago) ────╯" in edges, edges


def test_removed_is_said_whole_and_the_caption_goes_below() -> None:
    """Objects removed mid-run: "removed" whole on top, the type giving way to it, the
    caption below in a shorter form; narrower still, "removed" below, never "rem…"."""
    header, events = load("sysv-shm")
    last = events[59]
    gone = [{"t": last["t"] + 1, "seq": last["seq"] + 1 + i, "pid": 0, "kind": "obj.remove",
             "obj": name} for i, name in enumerate(("slot", "empty", "full"))]  # fmt: skip
    state = State(header=header)
    for e in [*events[:60], *gone]:
        apply(state, e)
    assert _edges(diagram_lines(state, 80, 15))[:2] == [
        "╭─ slot sysv_shm  removed ─────╮",
        "╰─ 4 cells · 8 writes ─────────╯",
    ]
    assert _edges(diagram_lines(state, 66, 15))[:2] == [
        "╭─ slot  removed ────╮",
        "╰─ 8 writes ─────────╯",
    ]
    assert _edges(diagram_lines(state, 56, 15))[:2] == ["╭─ slot ───────╮", "╰─ removed ────╯"]
