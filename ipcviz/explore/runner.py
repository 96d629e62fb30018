"""One explored run: fork an engine from this process, let a plan choose at every gate.

Why fork instead of ``python -m ipcviz.engine``: a Python start and the imports cost more
than a whole run of a small scenario. The explorer has the scenario loaded already; a
forked child builds a fresh ``Engine`` (its own session, objects, workers, registry),
runs it, reports what it saw on a pipe and exits. Everything the engine changes in its
process (nice, signal handlers, fd 1, the subreaper flag) dies with the child.
"""

from __future__ import annotations

import json
import os
import random
import traceback
from pathlib import Path
from typing import Any

from ipcviz.engine.engine import Engine  # imported once here, not in every forked run
from ipcviz.events import schema
from ipcviz.explore.result import RunResult, Step  # noqa: F401 - re-exported
from ipcviz.model.analysis.races import LOST_UPDATE

#: Event kinds the explorer keeps from a run (the rest stays in the engine's child).
#: The gate's steps and the processes' names are kept to tell when the bug showed up (and,
#: in a recorded replay, which steps were taken).
_KEPT = frozenset(
    {
        schema.CHECK,
        "deadlock",
        LOST_UPDATE,
        schema.ERROR,
        schema.PROC_ERROR,
        schema.GATE_STEP,
        schema.PROC_START,
    }
)


class Chooser:
    """Stands in for the gate's ``random.Random`` (``Gate.rng``): the gate calls ``choice``
    with the (pid, thread) pairs waiting at their gates, once the world has settled.

    ``plan`` is either ``{"prefix": [names]}``: those processes in that order (a name that
    cannot go now is skipped, as ``--schedule`` does), then the *default* policy — the
    process that went last goes on while it can, else the first in scenario order (no
    preemption) — or ``{"pct": {"prio": {name: p}, "changes": {step: p}}}``: the enabled
    process with the highest priority goes; at a change point it drops to that priority —
    or ``{"random": seed}``: a uniform choice, exactly as ``ipcviz run --seed seed`` makes —
    or ``{"schedule": [[name, count], …]}``: a ``--schedule`` (count None: ``NAME*``),
    taken item by item exactly as the gate takes it (engine/gate.py ``Gate._tick``).

    Where ``ipcviz run --schedule`` would go free-running (its schedule used up), this run
    goes on with the default policy and counts the choices among two or more processes
    (``free_choices``): there the order of a free run is up to the machine's scheduler, so
    a schedule with such choices does not reproduce a run by itself.
    """

    label = "explore"

    def __init__(self, plan: dict[str, Any], name_of: Any) -> None:
        self.plan = plan
        self.name_of = name_of
        self.prefix: list[str] = list(plan.get("prefix", []))
        pct = plan.get("pct")
        self.prio: dict[str, float] = dict(pct["prio"]) if pct else {}
        self.changes: dict[int, float] = (
            {int(k): v for k, v in pct["changes"].items()} if pct else {}
        )
        self.pct = pct is not None
        #: After this many steps every plan turns fair (the enabled process that waited
        #: longest goes): under strict priorities or "go on while you can", a process
        #: spinning on a flag would never let the holder run (a livelock of the search,
        #: not of the program).
        self.fair_after: int | None = plan.get("fair_after")
        self.went: dict[str, int] = {}  # name → the step it last went
        seeded = plan.get("random")
        self.rng = random.Random(seeded) if seeded is not None else None
        self.items: list[list[Any]] | None = (
            [list(x) for x in plan["schedule"]] if "schedule" in plan else None
        )
        #: Choices among two or more processes made after the schedule was used up.
        self.free_choices = 0
        self.steps: list[tuple[list[str], str]] = []
        self.last = ""

    def choice(self, pids: list[Any]) -> Any:
        """``pids``: the gate's candidates, (pid, thread) pairs (engine/gate.py): a plan
        names processes; of a process's threads, the first in the gate's order goes."""
        names = [self.name_of(p[0] if isinstance(p, tuple) else p) for p in pids]
        if self.rng is not None:  # by place, as the gate's own --seed (names may repeat)
            i = self.rng.choice(range(len(names)))
        else:
            i = names.index(self._choose(names))
        chosen = names[i]
        self.went[chosen] = len(self.steps)
        self.steps.append((names, chosen))
        self.last = chosen
        return pids[i]

    def _choose(self, names: list[str]) -> str:
        step = len(self.steps)
        if self.items is not None:
            if self.items and self.fair_after is not None and step >= self.fair_after:
                # a NAME* that never ends (a process spinning at its gate): `ipcviz run`
                # would wait for its timeout; here the run ends fair, and does not count
                self.items, self.free_choices = [], self.free_choices + 1
            while self.items:  # as Gate._tick: an item whose process cannot go is dropped
                name, count = self.items[0]
                if name not in names:
                    self.items.pop(0)
                    continue
                if count is not None:
                    if count <= 1:
                        self.items.pop(0)
                    else:
                        self.items[0][1] = count - 1
                return name
            if len(names) > 1:
                self.free_choices += 1
        if self.fair_after is not None and step >= self.fair_after:
            return min(names, key=lambda n: (self.went.get(n, -1), names.index(n)))
        if self.pct:
            # unknown (forked) processes come last, in the order they appear
            best = max(names, key=lambda n: (self.prio.get(n, -1.0), -names.index(n)))
            if step in self.changes:
                self.prio[best] = self.changes[step]
            return best
        while self.prefix:
            name = self.prefix.pop(0)
            if name in names:
                return name
        return self.last if self.last in names else names[0]


#: The explorer's ends of the pipes of runs in progress: a run forked later closes them,
#: so that closing ``ctl_w`` really ends that run's stdin (``Pending.cancel``).
_PARENT_FDS: set[int] = set()


class Pending:
    """A run in progress in a forked engine: ``fileno`` is readable once it has ended."""

    def __init__(
        self, scenario: Any, plan: dict[str, Any], trace: Path, timeout: float, quick: bool
    ) -> None:
        self.plan = plan
        res_r, res_w = os.pipe()
        ctl_r, ctl_w = os.pipe()  # the engine's stdin: open, silent (EOF would stop it)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _run_child(scenario, plan, trace, timeout, quick, res_w, ctl_r, (res_r, ctl_w))
        os.close(res_w)
        os.close(ctl_r)
        self.pid, self.res_r, self.ctl_w = pid, res_r, ctl_w
        _PARENT_FDS.update((res_r, ctl_w))
        self._result: RunResult | None = None

    def fileno(self) -> int:
        return self.res_r

    def cancel(self) -> None:
        """End its engine's stdin: the engine stops the run and cleans up."""
        if self.ctl_w >= 0:
            _PARENT_FDS.discard(self.ctl_w)
            os.close(self.ctl_w)
            self.ctl_w = -1

    def finish(self) -> RunResult:
        """Wait for the run's end (its result), reap its engine."""
        if self._result is not None:
            return self._result
        chunks = []
        try:
            while chunk := os.read(self.res_r, 1 << 16):
                chunks.append(chunk)
        finally:
            # In this order: on Ctrl-C (the engine, in its own session, gets no SIGINT)
            # its stdin ends, so it stops the run and cleans up; a result still written
            # is lost.
            _PARENT_FDS.discard(self.res_r)
            os.close(self.res_r)
            self.cancel()
            _, status = os.waitpid(self.pid, 0)
        if not chunks:
            code = os.waitstatus_to_exitcode(status)
            why = f"the run's engine died ({code})"
            self._result = RunResult(steps=[], outcome="error", errors=[why])
        else:
            self._result = RunResult.from_json(json.loads(b"".join(chunks)))
        return self._result


def run_once(
    scenario: Any, plan: dict[str, Any], trace: Path, timeout: float, quick: bool = False
) -> RunResult:
    """Run the (loaded) scenario once in a forked engine, choosing by ``plan``."""
    return Pending(scenario, plan, trace, timeout, quick).finish()


def _run_child(
    scenario: Any,
    plan: dict[str, Any],
    trace: Path,
    timeout: float,
    quick: bool,
    res_w: int,
    ctl_r: int,
    parent_ends: tuple[int, int],
) -> None:
    code = 70
    try:
        for fd in (*parent_ends, *_PARENT_FDS):  # the explorer's ends, of this run and others
            os.close(fd)
        # A session of its own, as ``EngineProcess`` starts one: the registry names it
        # and ``ipcviz clean`` may kill that whole session if this engine dies.
        os.setsid()
        os.dup2(ctl_r, 0)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)  # the event stream: the trace file keeps it
        data = json.dumps(_child(scenario, plan, trace, timeout, quick)).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(res_w, view) :]
        code = 0
    except BrokenPipeError:
        pass  # the explorer stopped (Ctrl-C): the engine has cleaned up, nobody reads
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _child(
    scenario: Any, plan: dict[str, Any], trace: Path, timeout: float, quick: bool
) -> dict[str, Any]:
    # No periodic kernel sweep (probe_interval 0): what it samples depends on timing, so
    # it can be no part of a verdict that a schedule reproduces (narration-step and end
    # probes, taken at fixed points of the run, stay).
    engine = Engine(
        scenario,
        trace,
        timeout=timeout,
        quick=quick,
        header_extra={"lang": "en"},
        probe_interval=0.0,
    )
    engine.nice = 0  # every step is chosen at the gate: the engine's pace changes nothing
    chooser = Chooser(plan, engine.model.proc_name)
    gate = engine.gate
    gate.configure(None, None, end_on_deadlock=True)
    if not plan.get("free"):  # ({"free": True}: no step gate, the benchmark's baseline)
        gate.rng = chooser  # type: ignore[assignment]  # duck-typed: only .choice is used
        gate.step_mode = True
    seen: list[dict[str, Any]] = []
    engine.on_events.append(lambda events: seen.extend(e for e in events if e["kind"] in _KEPT))
    engine.run()
    # In the stream's order: an event a hook emits (a lost update, while the gate's hook
    # looks at a batch) reaches the later hooks before the rest of that batch.
    seen.sort(key=lambda e: e.get("seq", 0))
    out = summarize(seen, chooser.steps, engine.outcome or "stopped")
    out["free_choices"] = chooser.free_choices
    return out


def summarize(events: Any, steps: list[Any] | None, outcome: str) -> dict[str, Any]:
    """The parts of a run's events the explorer judges by (JSON-able, see RunResult).
    ``steps`` None (a recorded replay): the steps are read from its ``gate.step`` events
    (who went; who could have gone is not in the trace)."""
    out: dict[str, Any] = {
        "steps": [] if steps is None else steps,
        "outcome": outcome,
        "failed_checks": [],
        "checks": [],
        "lost_updates": 0,
        "deadlock": False,
        "errors": [],
    }
    names: dict[Any, str] = {}
    gated = 0  # gate.step events so far: the step a finding came with
    for e in events:
        kind = e.get("kind")
        if kind == schema.GATE_STEP:
            gated += 1
            if steps is None:
                out["steps"].append([[], names.get(e.get("pid"), str(e.get("pid")))])
        elif kind == schema.PROC_START:
            names[e.get("pid")] = str(e.get("name", ""))
        elif kind == schema.CHECK:
            line = f"{e.get('description', '')}: {e.get('detail', '')}".rstrip(": ")
            out["checks"].append([bool(e.get("ok")), e.get("description", ""), e.get("detail", "")])
            if not e.get("ok"):
                out["failed_checks"].append(line)
        elif kind == LOST_UPDATE:
            out["lost_updates"] += 1
            out.setdefault("lost_at", gated)
        elif kind == "deadlock":
            out["deadlock"] = True
            out.setdefault("deadlock_at", gated)
        elif kind == schema.ERROR:
            out["errors"].append(str(e.get("message", "")))
        elif kind == schema.PROC_ERROR:
            lines = str(e.get("text", "")).strip().splitlines()
            out["errors"].append(lines[-1] if lines else "a worker raised")
    return out
