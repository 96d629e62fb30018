"""A shared-memory cell holding a long number (cpu-layouts' ``start_ns``: a 14-digit
CLOCK_MONOTONIC reading). The diagram's 12-cell box cut it to "53363261542…", which reads
as 53 billion and something; the detail view's box grew to the value's length and put its
first digit against the panel's border. The diagram now shows its size ("5.336e13", not
to be taken for the exact value) and the detail view the whole value, inside its box."""

from __future__ import annotations

import base64

import pytest

from ipcviz.mechanisms.posix_shm.diagram import fit_number
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import RecordedFeed
from ipcviz.tui.widgets.diagram import DiagramView
from ipcviz.tui.widgets.panels import ObjectsPanel

from .helpers import settle
from .screen_text import screen_rows

VALUE = 53363261542119
HEADER = {
    "format": "ipcviz-trace",
    "version": 1,
    "scenario": {"id": "clocked", "title": "a clock in shared memory", "steps": [], "checks": []},
    "session": "00000000",
}
MS = 1_000_000


def _events() -> list[dict]:
    data = base64.b64encode(VALUE.to_bytes(8, "little")).decode()
    return [
        {"t": 0, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "clock", "type": "posix_shm",
         "kernel_name": "/ipcviz.0.clock", "size": 16, "cells": 2, "cell_size": 8,
         "names": [["start_ns", 0, 1], ["spare", 1, 1]]},
        {"t": 1 * MS, "seq": 1, "pid": 10, "kind": "proc.start", "name": "w1"},
        {"t": 2 * MS, "seq": 2, "pid": 10, "kind": "shm.write", "obj": "clock", "offset": 0,
         "value": VALUE, "data": data},
    ]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_a_long_number_is_shown_by_its_size_in_the_diagram_and_whole_in_detail(
    lang: str,
) -> None:
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events()), lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        detail = screen_rows(app)
        region = screen.query_one(ObjectsPanel).region  # (the event log says it too)
        row = next(r for r in detail[region.y : region.bottom] if str(VALUE) in r)
        assert f"│ {VALUE} " in row, detail  # whole, a space from the border
        await pilot.press("v")
        await settle(pilot)
        assert screen.diagram_shown
        box = screen.query_one(DiagramView).region  # (the event log says it whole)
        diagram = "\n".join(screen_rows(app)[box.y : box.bottom])
        assert "5.336e13" in diagram and "53363261542…" not in diagram, diagram
        assert str(VALUE) not in diagram  # (the box has 12 cells: the whole value is not)


@pytest.mark.parametrize(
    "text, cells, shown",
    [
        ("0", 12, "0"),
        ("123456789012", 12, "123456789012"),  # fits: exact
        ("53363261542119", 12, "5.336e13"),
        ("-9223372036854775808", 12, "-9.223e18"),
        ("53363261542119", 4, "5e13"),
        ("99999999999999", 12, "1.000e14"),  # rounded up: the exponent follows
        ("ab12cd34…", 5, "ab12…"),  # not a number: cut, and says so
    ],
)
def test_fit_number(text: str, cells: int, shown: str) -> None:
    assert fit_number(text, cells) == shown
    if shown != text and shown[-1] != "…":
        assert abs(float(shown) - int(text)) <= abs(int(text)) * 0.1  # its size, rounded
