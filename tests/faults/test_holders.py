"""A process that dies holding a semaphore: reported at once with the waiters it strands,
the run ends (headless) or offers recovery (TUI); with SEM_UNDO the kernel gives it back.

Every case is forced by the scenario's declared schedule (tests/faults/scenarios): the
holder takes the lock, the waiter blocks on it in the kernel, then the holder ends, by
returning or by SIGKILL. No sleeps, no races.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ipcviz, read_trace
from tests.faults.harness import replays

SCENARIOS = Path(__file__).parent / "scenarios"
HOLDER_DIES = SCENARIOS / "holder_dies.py"


def _run(tmp_path: Path, variant: str, *extra: str) -> tuple:
    trace = tmp_path / f"{variant.replace(',', '-')}.jsonl"
    env = {**os.environ, "HOLDER_DIES": variant}
    r = subprocess.run(
        [
            *(sys.executable, "-m", "ipcviz", "run", str(HOLDER_DIES), "--headless"),
            "--record",
            str(trace),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    _, events = read_trace(trace)
    return r, events, trace


@pytest.mark.parametrize("variant", ["posix,exit", "posix,kill", "sysv,exit", "sysv,kill"])
def test_a_holder_that_dies_is_reported_and_the_headless_run_ends(
    tmp_path: Path, variant: str, record
) -> None:
    r, events, trace = _run(tmp_path, variant)
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    (died,) = [e for e in events if e["kind"] == "holder.died"]
    assert names[died["holder"]] == "holder" and died["obj"] == "lock" and died["n"] == 1
    assert died["value"] == 0 and [w["proc"] for w in died["waiters"]] == ["waiter"]
    # the holder's death came first, then the report, then the run's end
    kinds = [e["kind"] for e in events]
    exit_at = next(
        i for i, e in enumerate(events) if e["kind"] == "proc.exit" and e["pid"] == died["holder"]
    )
    assert exit_at < kinds.index("holder.died") < kinds.index("session.end")
    if variant.endswith("kill"):
        assert events[exit_at].get("signame") == "SIGKILL"
    # headless: one clear line, exit 1, the waiter ended by the engine, nothing left
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    line = "holder died holding lock (1 unit, never posted); lock is at 0 and waiter waits"
    assert r.stderr.strip().splitlines() == [f"ipcviz: {line} on it: nobody left can post it"]
    assert any("HOLDER DIED: " + line in ln for ln in r.stdout.splitlines()), r.stdout
    assert events[-1]["kind"] == "session.end" and events[-1]["outcome"] == "failed"
    ok, why = replays(trace)
    assert ok, why
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0, verify.stdout
    after = (died["t"] - events[exit_at]["t"]) / 1e6
    record(
        f"holder-died-{variant.replace(',', '-')}",
        f"holder.died ({died['obj']} at {died['value']}, waiters: waiter) {after:.0f} ms after "
        f"the holder's exit; exit {r.returncode}: {r.stderr.strip()}; verify: legal history",
        [],
        "yes",
    )


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_sem_undo_gives_the_lock_back_when_its_holder_dies(tmp_path: Path, how: str, record):
    r, events, trace = _run(tmp_path, f"sysv-undo,{how}")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    assert not [e for e in events if e["kind"] in ("holder.died", "deadlock")]
    kinds = [(names.get(e["pid"]), e["kind"]) for e in events]
    (undo,) = [e for e in events if e["kind"] == "sem.undo"]
    assert names[undo["pid"]] == "holder" and undo["obj"] == "lock" and undo["n"] == 1
    # the waiter slept on the lock before the holder died (its wait began before the exit:
    # a begin event, or ``since`` when the engine folded the begin into the completion),
    # and got it from the kernel's undo: in the stream, after the holder's exit and undo
    exit_at = kinds.index(("holder", "proc.exit"))
    took = kinds.index(("waiter", "sem.wait"))
    began = events[took].get("since")
    if ("waiter", "sem.wait.begin") in kinds:
        began = events[kinds.index(("waiter", "sem.wait.begin"))]["t"]
    assert began is not None and began < events[exit_at]["t"], (began, events[exit_at])
    assert exit_at < kinds.index(("holder", "sem.undo")) < took
    if how == "kill":
        assert events[exit_at].get("signame") == "SIGKILL"
    assert (
        "as it dies, the kernel gives back its 1 unit of lock (SEM_UNDO): value now 1" in r.stdout
    )
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0, verify.stdout
    ok, why = replays(trace)
    assert ok, why
    record(
        f"sem-undo-{how}",
        f"sem.undo n=1 right after the holder's proc.exit "
        f"({events[exit_at].get('signame') or 'exit 0'}); "
        f"the waiter asleep on it got the lock; exit {r.returncode}; verify: legal history",
        [],
        "yes",
    )


def test_a_lock_handed_over_by_another_process_is_never_called_a_dead_holder(
    tmp_path: Path, record
) -> None:
    trace = tmp_path / "handoff.jsonl"
    r = ipcviz("run", str(SCENARIOS / "handoff.py"), "--headless", "--record", str(trace),
               timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    _, events = read_trace(trace)
    assert not [e for e in events if e["kind"] in ("holder.died", "deadlock")], r.stdout
    # the trap was set: when the giver posted, the taker was dead (holding it, for the
    # model) and the waiter asleep on it in the kernel (what the giver saw, /proc)
    reports = {e["key"]: e["value"] for e in events if e["kind"] == "report"}
    assert reports["taker_dead"] is True and reports["waiter_asleep"] is True, reports
    assert "HOLDER DIED" not in r.stdout
    record(
        "holder-handoff",
        "taker dead holding lock, lock at 0, waiter asleep on it, giver alive (polling): "
        f"no holder.died, no deadlock; the giver posted, exit {r.returncode}",
        [],
    )


async def _until(pilot, cond, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def test_tui_shows_the_dead_holder_and_g_posts_it_on_its_behalf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record
) -> None:
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.feed import LiveFeed
    from ipcviz.tui.screens.holders import HolderBanner
    from ipcviz.tui.screens.session import SessionScreen

    monkeypatch.setenv("HOLDER_DIES", "posix,kill")
    app = IpcvizApp(lambda: LiveFeed(HOLDER_DIES, tmp_path / "t.jsonl"))
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(140, 45)) as pilot:
            screen = app.screen
            assert isinstance(screen, SessionScreen)
            state = lambda: screen.state  # noqa: E731 - the screen replaces it on start
            banner = screen.query_one(HolderBanner)
            await _until(pilot, lambda: banner.display, "the holder banner")
            text = str(banner.render())
            seen["banner"] = text
            assert "HOLDER DIED: holder died holding lock" in text and "g: post it" in text
            # told once as a notification too (the screen keeps what it told)
            assert [obj for obj, _ in screen._holders_told] == ["lock"]
            await pilot.press("g")
            await _until(pilot, lambda: state().outcome is not None, "the end of the run")
            assert not banner.display  # given back: the banner is gone
            assert state().outcome == "passed", state().outcome
            assert state().reports["waiter"]["got"] is True
            kinds = [k for k in state().kinds]
            assert "deadlock.recover" in kinds
            await pilot.press("q")

    asyncio.run(scenario())
    record(
        "holder-died-tui",
        f"banner: {seen['banner'][:160]}…; a notification; g posted it for the dead holder "
        "(deadlock.recover), the waiter got it, run PASSED",
        [],
    )


HOLDER_DIES_TWO = SCENARIOS / "holder_dies_two.py"


def test_waiters_stranded_by_a_dead_holder_are_not_a_deadlock_cycle(tmp_path: Path) -> None:
    """Two processes asleep on a lock whose holder died do not wait for each other: no
    cycle between them, no DEADLOCK line; the dead holder is the one thing reported."""
    trace = tmp_path / "t.jsonl"
    r = ipcviz("run", str(HOLDER_DIES_TWO), "--headless", "--record", str(trace), timeout=120)
    _, events = read_trace(trace)
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    (died,) = [e for e in events if e["kind"] == "holder.died"]
    assert names[died["holder"]] == "holder"
    assert sorted(w["proc"] for w in died["waiters"]) == ["waiter1", "waiter2"]
    (deadlock,) = [e for e in events if e["kind"] == "deadlock"]  # the kernel's proof
    assert deadlock["cycle"] == [], deadlock["cycle"]
    assert all(row["by"] == [] for row in deadlock["stuck"]), deadlock["stuck"]
    assert r.returncode == 1 and "DEADLOCK" not in r.stdout, r.stdout[-2000:]
    assert r.stderr.strip().splitlines() == [
        "ipcviz: holder died holding lock (1 unit, never posted); lock is at 0 and waiter1, "
        "waiter2 wait on it: nobody left can post it"
    ]
    assert ipcviz("verify", str(trace)).returncode == 0


def test_tui_shows_only_the_dead_holder_for_its_stranded_waiters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One banner, one hint (g): the deadlock banner with its "press k" stays hidden and the
    waiters' rows say they are stranded, not deadlocked."""
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.feed import LiveFeed
    from ipcviz.tui.screens.holders import HolderBanner
    from ipcviz.tui.screens.session import SessionScreen
    from ipcviz.tui.screens.stepping import DeadlockBanner
    from ipcviz.tui.widgets.panels import ProcTable

    app = IpcvizApp(lambda: LiveFeed(HOLDER_DIES_TWO, tmp_path / "t.jsonl"))

    async def scenario() -> None:
        async with app.run_test(size=(140, 45)) as pilot:
            screen = app.screen
            assert isinstance(screen, SessionScreen)
            banner = screen.query_one(HolderBanner)
            await _until(pilot, lambda: banner.display, "the holder banner")
            await _until(pilot, lambda: screen.state.deadlock is not None, "the kernel's proof")
            await pilot.pause()
            assert not screen.query_one(DeadlockBanner).display
            svg = app.export_screenshot().replace("&#160;", " ")
            assert "press k" not in svg and "DEADLOCK" not in svg
            assert svg.count("STRANDED on lock") == 2, "both waiters' rows"
            assert "g: post it" in str(banner.render())
            assert screen.query_one(ProcTable) is not None
            await pilot.press("g")
            await _until(pilot, lambda: screen.state.outcome is not None, "the end of the run")
            assert screen.state.outcome == "passed"
            await pilot.press("q")

    asyncio.run(scenario())


def test_a_dead_holder_is_said_in_korean_and_recorded_in_english(tmp_path: Path) -> None:
    """The engine speaks the run's language, but the ``error`` it records is English with
    the holder's data: the CLI and the narrator word it from them, in Korean."""
    r, events, _trace = _run(tmp_path, "posix,exit", "--lang", "ko")
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    (error,) = [e for e in events if e["kind"] == "error"]
    assert error["message"].startswith("holder died holding lock (1 unit, never posted)")
    assert error["holder"]["obj"] == "lock"
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("ipcviz: ") and "lock" in line and "holder died" not in line, line
    assert not any("holder died" in ln for ln in r.stdout.splitlines()), r.stdout
