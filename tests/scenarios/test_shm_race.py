"""shm-race forces its race through its declared schedule, and shows one lost-update number:
the check, the checks panel and the counter itself all agree, on every run."""

from __future__ import annotations

import struct
from pathlib import Path

from ipcviz.events.codec import payload
from ipcviz.model.analysis import races
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import RecordedFeed
from ipcviz.tui.widgets.panels import Checks
from tests.conftest import BuiltinTraces
from tests.tui.helpers import settle


def test_the_declared_schedule_loses_exactly_two_updates_per_race(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, header, events = builtin_traces.copy("shm-race", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    p = header["scenario"]["params"]
    total = p["workers"] * p["increments"]
    want = 2 * p["races"]
    assert header["schedule_declared"] is True and header["schedule"].startswith("inc1,inc2,")
    # every operation went through the gate in the declared order: nothing left to luck
    writes = [e for e in events if e["kind"] == "shm.write"]
    steps = [e for e in events if e["kind"] == "gate.step"]
    assert len(writes) == total and {e["by"] for e in steps} == {"schedule"}
    final = struct.unpack("<q", payload(writes[-1]))[0]
    assert final == total - want
    assert len([e for e in events if e["kind"] == "race.lost_update"]) == want

    # one number: the model's (what the panel draws), the check's, and the counter's
    state = State(header=header)
    for e in events:
        apply(state, e)
    assert races.missing(state) == races.missing(state, "counter", 0) == want == total - final
    (check,) = [e for e in events if e["kind"] == "check"]
    assert check["ok"], check
    assert check["detail"] == f"{want} updates lost: counter {final}, increments {total}"


def test_the_checks_panel_shows_the_number_the_check_states(
    builtin_traces: BuiltinTraces, tmp_path: Path
):
    result, header, events = builtin_traces.copy("shm-race", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    (check,) = [e for e in events if e["kind"] == "check"]
    lost = int(check["detail"].split()[0])
    app = IpcvizApp(lambda: RecordedFeed(header, list(events)))

    async def look() -> str:
        async with app.run_test(size=(140, 45)) as pilot:
            await settle(pilot)
            return str(app.screen.query_one(Checks).content)

    import asyncio

    text = asyncio.run(look())
    assert f"LOST UPDATES: {lost} missing" in text
    assert f"{lost} updates lost: counter" in text


def test_missing_is_per_cell_latest_and_ignores_bad_values():
    """The number is the latest ``missing`` of each cell, summed; a hostile trace's
    non-integer value counts as 0 instead of crashing the panel."""
    state = State(header={})
    state.lost_updates = [
        {"obj": "a", "offset": 0, "missing": 1},
        {"obj": "a", "offset": 0, "missing": 3},
        {"obj": "a", "offset": 8, "missing": 2},
        {"obj": "b", "offset": 0, "missing": "9"},
    ]
    assert races.missing(state) == 5
    assert races.missing(state, "a") == 5 and races.missing(state, "a", 8) == 2
    assert races.missing(state, "b") == 0 and races.missing(state, "c") == 0
