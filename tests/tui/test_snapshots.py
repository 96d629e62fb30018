"""SVG snapshots of the session screen, one per object type, fed from recorded traces.

Deterministic: no live engine, a fixed terminal size, and each trace cut at a fixed event.
Update after a deliberate visual change with ``pytest tests/tui --snapshot-update`` and
look at the SVGs in ``__snapshots__`` before committing them.
"""

from __future__ import annotations

import pytest

from .helpers import recorded_app, settle

CASES = {
    # name: (trace, events applied, size)
    "pipe-with-bytes": ("pipe-basic", 6, (120, 40)),
    "pipe-final-checks": ("pipe-basic", None, (120, 40)),
    "fifo": ("fifo-named", None, (120, 40)),
    "posix-mq": ("mq-priority", None, (120, 40)),
    "sysv-mq-and-sysv-sem": ("sysv-mq-typed", None, (120, 40)),
    "posix-shm": ("shm-race", None, (120, 40)),
    "posix-sem-and-shm": ("shm-semaphore", None, (120, 40)),
    "hostile-bytes": ("hostile", None, (120, 40)),
    "narrow-80x24": ("sysv-mq-typed", None, (80, 24)),
    "wide-200x60": ("mq-priority", None, (200, 60)),
    # tests/control/scenarios/pipe_cycle.py: the DEADLOCK banner, then gone once resolved
    "deadlock-banner": ("pipe-cycle", 11, (120, 40)),
    "deadlock-resolved": ("pipe-cycle", None, (120, 40)),
    # tests/faults/scenarios/holder_dies.py (posix, kill): the HOLDER DIED banner
    "holder-died": ("holder-died", 19, (120, 40)),
    # a C example under strace (ipcviz run c/pipe-parent-child): its steps and checks
    "c-pipe-parent-child": ("c-pipe-parent-child", None, (120, 40)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_session_screen_snapshot(snap_compare, case: str) -> None:
    trace, upto, size = CASES[case]
    assert snap_compare(recorded_app(trace, upto), terminal_size=size, run_before=settle)


def test_help_screen_snapshot(snap_compare) -> None:
    async def open_help(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(recorded_app("pipe-basic"), terminal_size=(100, 30), run_before=open_help)
