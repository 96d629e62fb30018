"""The screen of a process asleep in one System V semop on three semaphores: the processes
panel names all three, each semaphore's ``waiting:`` line shows it (counted on the one too
low, "needs it too" on the others), the diagram draws a sleeping edge to each, and the log
says it waits on all of them. Before, only the first (free) one showed it."""

from __future__ import annotations

from typing import Any

from ipcviz.draw.render import proc_state_text
from ipcviz.mechanisms.posix_sem.diagram import draw
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import RecordedFeed
from ipcviz.tui.widgets.panels import EventLog, ObjectsPanel
from tests.tui.helpers import settle

HEADER: dict[str, Any] = {
    "format": "ipcviz-trace",
    "version": 1,
    "scenario": {"id": "three", "title": "one semop on three", "steps": []},
}


def _events() -> list[dict[str, Any]]:
    """s-0 at 1, s-1 and s-2 at 0; ``waiter`` asleep in one semop asking for all three."""
    raw: list[dict[str, Any]] = [
        {"pid": 10, "kind": "proc.start", "name": "waiter", "color": 0},
        {"pid": 11, "kind": "proc.start", "name": "other", "color": 1},
        *(
            {"pid": 0, "kind": "obj.declare", "obj": f"s-{i}", "type": "sysv_sem", "value": v}
            for i, v in enumerate((1, 0, 0))
        ),
        {
            "pid": 10,
            "kind": "sem.wait.begin",
            "obj": "s-0",
            "sems": ["s-0", "s-1", "s-2"],
            "units": [1, 1, 1],
        },
    ]
    return [{"t": 1000 * i, "seq": i, **e} for i, e in enumerate(raw)]


async def test_a_semop_asleep_on_three_is_shown_on_all_three() -> None:
    app = IpcvizApp(lambda: RecordedFeed(HEADER, _events()))
    async with app.run_test(size=(140, 45)) as pilot:
        screen = await settle(pilot)
        svg = app.export_screenshot().replace("&#160;", " ")
        views = screen.query_one(ObjectsPanel).views
        lines = {n: "\n".join(views[n].plain_lines()) for n in ("s-0", "s-1", "s-2")}
        log = screen.query_one(EventLog)
        said = ["".join(s.text for s in log.formatter.line(e, 200)) for e in log.entries]
        await pilot.press("v")  # the diagram
        await pilot.pause()
        diagram = app.export_screenshot().replace("&#160;", " ")
        state = screen.state
        screen.stop()
    assert "waiting: sem.wait on s-0+s-1+s-2" in svg
    assert "waiting: waiter[10]" in lines["s-1"], lines["s-1"]  # the kernel counts it here
    for name in ("s-0", "s-2"):
        assert "waiting: + waiter[10] (needs it too, same semop; asleep on s-1)" in lines[name]
    assert any("waits on s-0, s-1 and s-2, in one semop" in line for line in said), said
    assert diagram.count("◀zz wait") == 3, "a sleeping edge to each semaphore"
    # a narrow state column (120 columns): every semaphore stays, the op's name goes
    assert proc_state_text(state, state.procs[10], 26).plain == "waiting on s-0+s-1+s-2"
    rows = {
        n: "".join(s.text for s in draw(state, state.objects[n], 40, 2, False)[1]) for n in lines
    }
    assert rows["s-1"].startswith("asleep: waiter"), rows
    assert rows["s-0"].startswith("asleep: + waiter") and rows["s-2"] == rows["s-0"], rows
