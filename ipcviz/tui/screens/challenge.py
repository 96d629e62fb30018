"""Challenge mode (``ipcviz run SCENARIO --challenge``): the student is the scheduler.

The run starts in step mode and nobody moves until the student says who: ``s`` (the
selected process), ``1``..``9`` or ``n`` let one process perform one operation, as in The
Deadlock Empire, but on real processes. A banner states the scenario's goal ("make the
counter lose an update") and counts the steps; when the engine's own watchers see it
happen (a lost update, a deadlock proven by the kernel, a failed check) the banner says
so, with the number of steps it took. ``x`` asks ``ipcviz explore`` (a separate process:
the TUI knows no kernel) for its shortest interleaving, to compare.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from ipcviz import bytefmt
from ipcviz.draw import palette as P
from ipcviz.explore.goals import Goal, reached
from ipcviz.i18n import N_, _, ngettext
from ipcviz.model.state import State
from ipcviz.tui.screens.session import SessionScreen


def goal_status(goal: Goal, state: State) -> str | None:
    """What the run has shown of the goal so far (None: not reached yet)."""
    return reached(
        goal,
        lost_updates=state.kinds.get("race.lost_update", 0),
        deadlock=state.kinds.get("deadlock", 0) > 0,
        # undecided (a worker the student killed): no bug found, the kill's doing
        failed_checks=[c.description for c in state.checks if not c.ok and not c.undecided],
        timeout=state.outcome == "timeout",
        passed_checks=[f"{c.description}: {c.detail}" for c in state.checks if c.ok],
    )


class ChallengeBanner(Static):
    DEFAULT_CSS = """
    ChallengeBanner { height: auto; background: $panel; color: $foreground; padding: 0 1; }
    ChallengeBanner.-reached { background: $reached; }
    """


class ChallengeScreen(SessionScreen):
    """The session screen with a goal, a step count, and explore's answer on demand."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "shortest", N_("explore's answer"))]

    def __init__(
        self,
        *args: Any,
        goal: Goal,
        explore_argv: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.goal = goal
        self.explore_argv = list(explore_argv)  # ipcviz explore … (without the executable)
        self.reached_at: int | None = None  # steps taken when the goal showed up
        self.reached_what = ""
        self._run_state: State | None = None
        self.shortest = ""  # explore's answer, once asked for (in the language then)
        self.shortest_parts: tuple[str, str, str] = ("", "", "")
        self._explore: subprocess.Popen[str] | None = None

    def compose(self) -> ComposeResult:
        yield ChallengeBanner(id="challenge")
        yield from super().compose()

    def redraw(self, force: bool = False) -> None:
        super().redraw(force)
        state = self.state
        if state is not self._run_state:  # a new run (restart): a new attempt
            self._run_state, self.reached_at, self.reached_what = state, None, ""
        steps = state.gate_steps
        if self.reached_at is None:
            what = goal_status(self.goal, state)
            if what is not None:
                self.reached_at, self.reached_what = steps, what
                self.notify(
                    ngettext(
                        "goal reached in {n} step: {what}",
                        "goal reached in {n} steps: {what}",
                        steps,
                    ).format(n=steps, what=bytefmt.safe_text(str(what), 200)),
                    title=_("challenge"),
                    markup=False,
                )
        self.query_one(ChallengeBanner).set_class(self.reached_at is not None, "-reached")
        self.query_one(ChallengeBanner).update(self.banner_text(steps))

    def banner_text(self, steps: int) -> Text:
        goal = bytefmt.safe_text(self.goal.text(self.lang), 200)
        if self.reached_at is not None:
            n = self.reached_at
            said = ngettext("GOAL REACHED in {n} step:", "GOAL REACHED in {n} steps:", n)
            text = Text(said.format(n=n) + " ", style="bold")
            text.append(bytefmt.safe_text(str(self.reached_what), 200))
        else:
            text = Text(_("CHALLENGE:") + " ", style=P.bold(P.GOLD))
            text.append(goal)
            text.append(
                "  ·  " + _("you choose who goes: s / 1-9 / n  ·  steps: {n}").format(n=steps)
            )
        if self.shortest:
            text.append("\n" + _("explore: {answer}").format(answer=self._shortest_text()))
        elif self._explore is not None:
            text.append("\n" + _("explore is searching…"))
        else:
            text.append("  ·  " + _("x: explore's shortest schedule"))
        return text

    def _shortest_text(self) -> str:
        """explore's answer in the language now chosen (kept as its parts: ``l`` may come
        after the answer)."""
        kind, schedule, at = self.shortest_parts
        if kind == "found":
            said = _("shortest found: {schedule}").format(schedule=schedule)
            if at:
                said += " " + _("(goal at step {n})").format(n=at)
        elif kind == "nothing":
            said = _("found nothing within its budget")
        else:
            said = _("failed ({why})").format(why=schedule)
        return bytefmt.safe_text(said, 300)

    def action_shortest(self) -> None:
        if self._explore is not None or self.shortest or not self.explore_argv:
            return
        self._explore = subprocess.Popen(
            [sys.executable, "-m", "ipcviz", *self.explore_argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # its answer is read here (``schedule: ``): in English, whatever the screen's
            env={**os.environ, "LANGUAGE": "en"},
        )
        self.run_worker(self._wait_explore, thread=True, name="explore", group="explore")

    def _wait_explore(self) -> None:
        proc = self._explore
        if proc is None:
            return
        out, _err = proc.communicate()
        self.app.call_from_thread(self._explored, proc.returncode, out)

    def _explored(self, code: int, out: str) -> None:
        self._explore = None
        lines = out.splitlines()
        schedule = next((ln.split(" ", 1)[1] for ln in lines if ln.startswith("schedule: ")), "")
        if schedule:
            # where its replay reached the goal, to compare with the student's step count
            at = re.search(r"\((?:the first )?at step (\d+)\)", out)
            self.shortest_parts = ("found", schedule, at.group(1) if at else "")
        elif code == 0:
            self.shortest_parts = ("nothing", "", "")
        else:
            self.shortest_parts = ("failed", lines[-1] if lines else str(code), "")
        self.shortest = self._shortest_text()

    def stop(self) -> int | None:
        proc = self._explore
        if proc is not None and proc.poll() is None:
            proc.terminate()  # explore stops its run and cleans up on SIGTERM
        return super().stop()
