"""Presenter mode on screen: big narration, → / ← over steps, ``l`` for Korean, live and replay."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot

from ipcviz.draw.bigtext import normalize
from ipcviz.engine.options import EngineOptions
from ipcviz.scenario.loader import resolve
from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.launch import present_app as replay_app
from ipcviz.tui.screens.present import PresentScreen
from ipcviz.tui.widgets.panels import Narration
from tests.conftest import BuiltinTraces, read_trace
from tests.lecture.bigread import read_lines, same_words

SIZE = (140, 44)


def shown(screen: PresentScreen) -> str:
    """What the narration panel shows now: its ordinary text (badge, hint, Korean bands)
    and its large type read back into letters, as a viewer reads it (``bigread``)."""
    plain = screen.narration_text.plain
    return plain + "\n" + read_lines(plain.splitlines())


def says(screen: PresentScreen, words: str) -> bool:
    """The panel shows ``words``: in ordinary type, or drawn large (capitals) and read back
    (a long narration is paged: the page shown is a part of them, in order)."""
    if flat(words) in flat(screen.narration_text.plain):
        return True
    big = read_lines(screen.narration_text.plain.splitlines())
    if len(screen.pages) == 1:
        return bool(big) and same_words(big, words)
    norm = normalize(words) or ""
    return bool(big) and "".join(big.split()) in "".join(norm.split())


async def go_on(pilot: Pilot, screen: PresentScreen) -> None:
    """→ past the shown narration's pages, then once more: the run goes on."""
    while screen.page + 1 < len(screen.pages):
        await pilot.press("right")
        await pilot.pause()
    await pilot.press("right")


async def forward(pilot: Pilot, screen: PresentScreen) -> None:
    """→ until the next narration step is shown (past the pages of what is shown now)."""
    before = (screen.shown_number(), screen.shown_step())
    for _ in range(10):
        await pilot.press("right")
        await pilot.pause()
        if (screen.shown_number(), screen.shown_step()) != before:
            return
    raise AssertionError("→ did not reach the next step")


def flat(text: str) -> str:
    return " ".join(text.split())


async def until(pilot: Pilot, what, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def live_present_app(tmp_path: Path) -> IpcvizApp:
    """The app of ``ipcviz run producer-consumer --present --quick``, recording to
    ``tmp_path`` (the caller closes it: ``app.close_all()``)."""
    app = IpcvizApp(
        lang="en",
        quick=True,
        record=tmp_path / "live.jsonl",
        engine_options=EngineOptions.template(present=True),
    )
    app.session_class = PresentScreen
    app.feed_factory = app.live_factory(resolve("producer-consumer"))
    return app


@pytest.fixture
def recorded(builtin_traces: BuiltinTraces, tmp_path: Path) -> Path:
    result, _header, _events = builtin_traces.copy("producer-consumer", tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "producer-consumer.jsonl"


def test_replay_present_steps_and_language(recorded: Path) -> None:
    header, events = read_trace(recorded)
    steps = {s["id"]: s for s in header["scenario"]["steps"]}
    narrated = [e["step"] for e in events if e["kind"] == "narrate"]

    async def go() -> None:
        app = replay_app(recorded, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PresentScreen)
            assert (
                not screen.query_one("#log-box").display
                or not screen.query_one("#log-box").region.height
            ), "presenter mode hides the event log"
            assert screen.query_one(Narration).region.height >= SIZE[1] // 3  # the big panel
            await forward(pilot, screen)
            first = steps[narrated[0]]
            assert says(screen, first["en"])
            assert f"1 / {len(narrated)}" in shown(screen)  # narrations in the run's order
            await forward(pilot, screen)
            assert says(screen, steps[narrated[1]]["en"])
            await pilot.press("l")
            await pilot.pause()
            assert says(screen, steps[narrated[1]]["ko"])
            await pilot.press("left")
            await pilot.pause()
            assert says(screen, first["ko"])
            # the whole screen went back: the model is the state at the first step
            assert screen.state.step == narrated[0]
            await pilot.press("q")

    asyncio.run(go())


def test_live_present_holds_each_step_until_right(tmp_path: Path) -> None:
    """A real engine with --present: the screen shows a step while the world waits; → goes
    on; ← shows the previous step's text again; the run ends passed."""
    header_steps: dict[str, dict] = {}

    async def go() -> None:
        app = live_present_app(tmp_path)
        try:
            await _drive(app)
        finally:
            app.close_all()  # whatever failed: the engine is stopped and reaped

    async def _drive(app: IpcvizApp) -> None:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, PresentScreen)

            def held() -> bool:
                return any(p.gated_op == "narrate" for p in screen.state.procs.values())

            await until(pilot, held)
            header_steps.update({s["id"]: s for s in screen.state.steps()})
            assert screen.state.step == "setup"
            assert says(screen, header_steps["setup"]["en"])
            assert "PAUSED for you" in shown(screen)
            # held for real: a moment later, still the same step
            await pilot.pause(0.3)
            assert screen.state.step == "setup" and held()
            await go_on(pilot, screen)
            await until(pilot, lambda: screen.state.step == "fill" and held())
            await pilot.press("left")
            await pilot.pause()
            assert says(screen, header_steps["setup"]["en"])
            await go_on(pilot, screen)  # forward to what is live again
            await pilot.pause()
            assert says(screen, header_steps["fill"]["en"])
            seen = ["setup", "fill"]
            while screen.state.outcome is None:
                current = screen.state.step
                await go_on(pilot, screen)
                await until(
                    pilot,
                    lambda c=current: (
                        screen.state.outcome is not None or (held() and screen.state.step != c)
                    ),
                    30,
                )
                if screen.state.outcome is None:
                    seen.append(screen.state.step)
            assert screen.state.outcome == "passed"
            assert seen[-1] == "done", seen
            assert screen.history == seen
            await pilot.press("q")

    asyncio.run(go())


def test_live_present_at_80x24_in_the_detail_view_keeps_its_hint_and_ends_on_the_checks(
    tmp_path: Path,
) -> None:
    """80×24, the detail view (v): PAUSED and what → does stay on screen at every step
    (the panel is short: its pages are one line of large type), and once the run ended
    the checks are shown in full, the narration still readable above them (it was
    squeezed to its frame, the checks cut)."""
    from tests.tui.screen_text import screen_rows

    async def go() -> None:
        app = live_present_app(tmp_path)
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                screen = app.screen
                assert isinstance(screen, PresentScreen)
                await pilot.press("v")

                def held() -> bool:
                    return any(p.gated_op == "narrate" for p in screen.state.procs.values())

                while screen.state.outcome is None:
                    await until(pilot, lambda: held() or screen.state.outcome is not None, 30)
                    if screen.state.outcome is not None:
                        break
                    while True:  # every page of the held step shows the PAUSED hint
                        await pilot.pause()
                        assert "PAUSED" in "\n".join(screen_rows(app))
                        if screen.page + 1 >= len(screen.pages):
                            break
                        await pilot.press("right")
                    current = screen.state.step
                    await pilot.press("right")
                    await until(
                        pilot,
                        lambda c=current: (
                            screen.state.outcome is not None or (held() and screen.state.step != c)
                        ),
                        30,
                    )
                assert screen.state.outcome == "passed"
                await until(pilot, lambda: screen.query_one("#checks").region.height > 0)
                for _ in range(3):
                    await pilot.pause()
                rows = screen_rows(app)
                assert screen.query_one(Narration).region.height >= 5
                assert "run PASSED" in "\n".join(rows), "\n".join(rows)
                assert sum("✓" in row for row in rows) == 3, "\n".join(rows)  # all three
                checks = screen.query_one("#checks").region
                assert checks.bottom <= 23, checks  # whole: its frame above the footer
                await pilot.press("q")
        finally:
            app.close_all()

    asyncio.run(go())


TWO_NARRATORS = """
from ipcviz.scenario import Scenario

scenario = Scenario("two-narrators", "two processes narrate at once")
scenario.step("a1", "a speaks first")
scenario.step("a2", "a speaks again")
scenario.step("b1", "b speaks")
s = scenario.semaphore("s", value=1)


@scenario.process("a")
def a(ctx):
    ctx.step("a1")
    s.wait()
    s.post()
    ctx.step("a2")


@scenario.process("b")
def b(ctx):
    ctx.step("b1")
    s.wait()
    s.post()
"""


def test_live_present_shows_every_narration_one_at_a_time_in_the_traces_order(
    tmp_path: Path,
) -> None:
    """Both processes narrate at once (each narrates first thing: the engine holds both,
    no timing involved): each narration is shown on its own, one per →, numbered in the
    trace's order, none skipped; the recorded trace has them in that order."""
    source = tmp_path / "two.py"
    source.write_text(TWO_NARRATORS)
    trace = tmp_path / "live.jsonl"
    shown_steps: list[tuple[int, str]] = []

    async def go() -> None:
        present = EngineOptions.template(present=True)
        app = IpcvizApp(lang="en", record=trace, engine_options=present)
        app.session_class = PresentScreen
        app.feed_factory = app.live_factory(source)
        try:
            async with app.run_test(size=SIZE) as pilot:
                screen = app.screen
                assert isinstance(screen, PresentScreen)
                await until(pilot, lambda: len(screen.state.held_narrations) == 2)
                await pilot.pause()
                while screen.state.outcome is None:
                    number, step = screen.state.presented()
                    assert step is not None
                    await until(pilot, lambda n=number: screen.shown_number() == n)
                    texts = {s["id"]: s["en"] for s in screen.state.steps()}
                    assert says(screen, texts[step])
                    assert f" {number} " in shown(screen)
                    shown_steps.append((number, step))
                    await go_on(pilot, screen)
                    await until(
                        pilot,
                        lambda n=number: (
                            screen.state.outcome is not None
                            or (screen.state.held_narrations and screen.state.presented()[0] > n)
                        ),
                        30,
                    )
                assert screen.state.outcome == "passed"
                await pilot.press("q")
        finally:
            app.close_all()

    asyncio.run(go())
    _header, events = read_trace(trace)
    narrated = [e["step"] for e in events if e["kind"] == "narrate"]
    assert sorted(narrated) == ["a1", "a2", "b1"]
    assert shown_steps == list(enumerate(narrated, 1)), (shown_steps, narrated)
    releases = [e["pid"] for e in events if e["kind"] == "gate.step" and e["by"] == "presenter"]
    assert len(releases) == 3  # one process let go per →
    replayed: list[tuple[int | None, str | None]] = []

    async def replay() -> None:  # the recording, in presenter replay: the same, in order
        app = replay_app(trace, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PresentScreen)
            for _ in narrated:
                await go_on(pilot, screen)
                await pilot.pause()
                replayed.append((screen.shown_number(), screen.shown_step()))
                assert f"{screen.shown_number()} / {len(narrated)}" in shown(screen)
            await pilot.press("q")

    asyncio.run(replay())
    assert replayed == shown_steps


def test_a_narration_whole_on_one_page_starts_again_at_its_first_when_it_no_longer_fits(
    recorded: Path,
) -> None:
    """A step's words fit one page; the panel shrinks (at 80×24 the end of a run does it:
    the checks appear) and they need several: page 1 is shown, then → pages on. Before,
    the screen jumped to the last page (the trial's "the last step re-pages"): the
    middle of the narration was never shown."""

    async def go() -> None:
        app = replay_app(recorded, lang="en")
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, PresentScreen)
            await pilot.pause()
            await forward(pilot, screen)  # the first step
            for _ in range(12):  # a step whole on one page at the big size, paged at 80×24
                await pilot.resize_terminal(*SIZE)
                await pilot.pause()
                screen.big_text()
                one_page = len(screen.pages) == 1
                await pilot.resize_terminal(80, 24)
                await pilot.pause()
                screen.big_text()
                if one_page and len(screen.pages) > 1:
                    break
                await pilot.resize_terminal(*SIZE)
                await pilot.pause()
                await forward(pilot, screen)
            else:
                raise AssertionError("no step fits one page at 140×44 and not at 80×24")
            assert screen.page == 0, (screen.page, len(screen.pages))
            await pilot.press("right")
            await pilot.pause()
            screen.big_text()
            assert screen.page == 1
            await pilot.press("q")

    asyncio.run(go())
