"""The picker and ``ipcviz list`` in lecture order, each teaching point said in words."""

from __future__ import annotations

import json
import re
from pathlib import Path

from textual.widgets import DataTable, Static

from ipcviz.scenario.api import T_IDS
from ipcviz.scenario.lecture import POINTS, SECTIONS, gloss
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.screens.picker import PickerScreen
from tests.conftest import ipcviz

NOTES = Path("/work/shared/seed/ipc-lecture-notes.en.md")


def _n(t_id: str) -> int:
    return int(t_id[1:])


def test_every_teaching_point_has_words_and_a_section() -> None:
    assert set(POINTS) == set(T_IDS)
    assert all(POINTS[t].strip() for t in T_IDS)
    covered = [n for _num, _name, first, last in SECTIONS for n in range(first, last + 1)]
    assert covered == list(range(1, len(T_IDS) + 1))  # each point in one section, in order
    if NOTES.exists():  # the sections' bounds, as the notes have them
        text = NOTES.read_text()
        for _num, _name, first, last in SECTIONS:
            assert f"[T{first}]" in text and f"[T{last}]" in text


def test_list_is_in_lecture_order_with_words_for_each_point() -> None:
    items = json.loads(ipcviz("list", "--json", check=True).stdout)
    firsts = [_n(item["teaches"][0]) for item in items]
    assert firsts == sorted(firsts), [item["id"] for item in items]
    assert items[0]["id"] == "cpu-layouts"  # T1 first, not the alphabet's address-spaces
    for item in items:
        assert item["points"] == {t: POINTS[t] for t in item["teaches"]}
    out = ipcviz("list", check=True).stdout.splitlines()
    rows = [line for line in out if not line.startswith("# ")]
    assert [r.split()[0] for r in rows] == [item["id"] for item in items]
    headers = [line for line in out if line.startswith("# ")]
    assert headers[:2] == ["# 1 Multiprocessing", "# 1.1a Pipe"]
    pipe_basic = next(r for r in rows if r.startswith("pipe-basic "))
    assert f"[{gloss('T4')}; {gloss('T7')}; {gloss('T8')}]" in pipe_basic
    assert re.search(r"T17 \w", "\n".join(rows))  # T17 says what it is


async def test_picker_is_in_lecture_order_and_says_what_each_point_means() -> None:
    app = IpcvizApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PickerScreen)
        table = screen.query_one(DataTable)
        ids = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        listed = [i["id"] for i in json.loads(ipcviz("list", "--json", check=True).stdout)]
        assert ids == listed  # the same order as `ipcviz list`
        sections = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert [s for s in sections if s] == [f"{num} {name}" for num, name, *_ in SECTIONS]
        teaches = str(table.get_row_at(0)[2])
        assert teaches.startswith(gloss("T1"))
        mq = ids.index("mq-priority")
        await pilot.press(*["down"] * mq)
        about = str(screen.query_one("#about", Static).render())
        for t in ("T17", "T19", "T24"):
            assert gloss(t) in about, about
        await pilot.press("q")
