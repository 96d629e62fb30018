"""Challenge mode against a real engine, via Pilot: the student steps, ipcviz judges."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from ipcviz.explore.goals import goal_of
from ipcviz.explore.search import runs_of
from ipcviz.scenario.loader import load, resolve
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.feed import LiveFeed
from ipcviz.tui.screens.challenge import ChallengeBanner, ChallengeScreen
from ipcviz.tui.screens.stepping import numbered
from tests.conftest import ipcviz, read_trace


async def _until(pilot: Pilot, cond: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def test_the_student_loses_an_update_in_four_steps(tmp_path: Path) -> None:
    path = resolve("shm-race")
    settings = ("increments=1",)
    app = IpcvizApp(lambda: LiveFeed(path, tmp_path / "t.jsonl", step=True, settings=settings))
    app.session_class = functools.partial(
        ChallengeScreen,
        goal=goal_of(load(path)),
        explore_argv=["explore", str(path), "--set", *settings, "--budget", "20"],
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
            assert "GOAL REACHED in 4 steps: 1 lost update(s)" in banner()
            await pilot.press("x")  # explore's answer, from a separate process
            await _until(pilot, lambda: "explore: shortest" in banner(), "explore's answer", 60)
            assert screen.shortest.startswith("shortest found: --schedule inc"), screen.shortest
            assert re.search(r"\(goal at step \d+\)$", screen.shortest), screen.shortest
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


async def test_the_screen_shows_the_lost_update_of_explores_printed_schedule(
    tmp_path: Path,
) -> None:
    # what explore prints, started as `ipcviz run shm-race --set increments=2 --schedule S`
    r = ipcviz("explore", "shm-race", "--set", "increments=2", "--seed", "0")
    assert r.returncode == 1, r.stdout + r.stderr
    m = re.search(r"^schedule: --schedule (\S+)$", r.stdout, re.M)
    assert m, r.stdout
    schedule = m.group(1)
    printed = re.findall(
        r"\d+ updates lost: counter \d+, increments 6", r.stdout.split("found in")[1]
    )
    trace = tmp_path / "t.jsonl"
    extra = {"schedule": schedule, "settings": ("increments=2",)}
    app = IpcvizApp(lambda: LiveFeed(resolve("shm-race"), trace, **extra))
    async with app.run_test(size=(140, 45)) as pilot:
        try:
            screen = app.screen
            await _until(pilot, lambda: screen.state.outcome is not None, "the end of the run")
            assert screen.state.kinds["race.lost_update"] > 0
            # the checks panel says what explore printed: the schedule's own numbers
            details = [c.detail for c in screen.state.checks]
            assert printed and printed[0] in details, (printed, details)
            await pilot.press("q")
        finally:
            app.close_all()
    _, events = read_trace(trace)
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    gated = [e for e in events if e["kind"] == "gate.step"]
    steps = [names[e["pid"]] for e in gated if e["by"] == "schedule"]
    # in the schedule's order: its items, one after another; then the one process left
    # runs alone (let through "free": nobody else could go)
    assert [n for n, _ in runs_of(steps)] == [x.split("*")[0] for x in schedule.split(",")]
    assert len({names[e["pid"]] for e in gated if e["by"] != "schedule"}) <= 1
