"""Challenge mode against a real engine, via Pilot: the student steps, ipcviz judges."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from ipcviz.explore.goals import goal_of
from ipcviz.explore.search import compress
from ipcviz.scenario.loader import load, resolve
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.challenge import ChallengeBanner, ChallengeScreen
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.stepping import numbered
from tests.conftest import ipcviz, read_trace


async def _until(pilot: Pilot, cond: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def test_the_student_loses_an_update_in_four_steps(tmp_path: Path) -> None:
    path = resolve("shm-race")
    settings = ["--set", "increments=1"]
    app = IpcvizApp(lambda: LiveFeed(path, tmp_path / "t.jsonl", extra=["--step", *settings]))
    app.session_class = functools.partial(
        ChallengeScreen,
        goal=goal_of(load(path)),
        explore_argv=["explore", str(path), *settings, "--budget", "20"],
    )
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChallengeScreen)
        try:
            banner = lambda: str(screen.query_one(ChallengeBanner).render())  # noqa: E731

            def gated() -> int:
                return sum(1 for p in screen.state.procs.values() if p.gated_op)

            def at_gate(number: str) -> bool:
                return bool(numbered(screen.state)[int(number) - 1].gated_op)

            await _until(pilot, lambda: gated() == 3, "all three at their gates")
            assert "CHALLENGE: make the counter lose an update" in banner()
            # inc1 reads 0, inc2 reads 0, inc1 writes 1, inc2 writes 1: inc1's update is lost
            for n, key in enumerate("1212", start=1):
                await _until(pilot, lambda key=key: at_gate(key), f"process {key} at its gate")
                assert screen.reached_at is None
                await pilot.press(key)
                await _until(pilot, lambda n=n: screen.state.gate_steps == n, f"step {n}")
            await _until(pilot, lambda: screen.reached_at is not None, "the goal")
            assert screen.reached_at == 4
            assert "GOAL REACHED in 4 step(s): 1 lost update(s)" in banner()
            await pilot.press("x")  # explore's answer, from a separate process
            await _until(pilot, lambda: "explore: shortest" in banner(), "explore's answer", 60)
            assert screen.shortest.startswith("shortest found: --schedule inc"), screen.shortest
            await pilot.press("t")  # free-running again: the run completes and cleans up
            await _until(pilot, lambda: screen.state.outcome is not None, "the end of the run")
            await pilot.press("q")
        finally:  # a failed assertion must not leave the engine waiting for a step
            app.close_all()


def test_challenge_is_for_the_screen_only():
    r = ipcviz("run", "shm-race", "--challenge", "--headless")
    assert r.returncode == 2 and "--challenge" in r.stderr and "Traceback" not in r.stderr
    r = ipcviz("run", "shm-race", "--challenge", "--seed", "1")
    assert r.returncode == 2 and "--challenge" in r.stderr


async def test_the_screen_replays_a_printed_schedule_exactly(tmp_path: Path) -> None:
    # what `ipcviz run shm-race --set increments=2 --schedule S` starts (TUI): S as printed
    schedule = "inc1,inc2*4,inc1*3,inc3*4"
    trace = tmp_path / "t.jsonl"
    extra = ["--schedule", schedule, "--set", "increments=2"]
    app = IpcvizApp(lambda: LiveFeed(resolve("shm-race"), trace, extra=extra))
    async with app.run_test(size=(140, 45)) as pilot:
        try:
            screen = app.screen
            await _until(pilot, lambda: screen.state.outcome is not None, "the end of the run")
            assert screen.state.kinds["race.lost_update"] > 0
            await pilot.press("q")
        finally:
            app.close_all()
    _, events = read_trace(trace)
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    steps = [names[e["pid"]] for e in events if e["kind"] == "gate.step"]
    assert compress(steps) == schedule
