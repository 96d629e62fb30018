"""How the next run's interleaving is chosen: PCT and a preemption-bounded DFS.

Both produce *plans* for ``runner.Chooser`` (it runs inside the forked engine) and learn
from each run's steps (who could go, who went), so they need no model of the program:
the real processes tell them at every gate who is enabled.

PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): every process gets a
random distinct priority d..d+n-1; d-1 change points are drawn among the k steps of a run;
the enabled process with the highest priority always goes, and at the i-th change point
the one going drops to priority i. A bug of depth d (d ordering constraints) is found by one
run with probability at least 1/(n·k^(d-1)), whatever the program.

DFS (as in CHESS, Musuvathi & Qadeer 2007): the first run lets each process go on while it
can (no preemption); every later run replays the last one up to a step where another
process could have gone, takes that one instead, and goes on without preemption. Runs with
more than ``bound`` preemptions (switching away from a process that could have gone on)
are not explored: most concurrency bugs need one or two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ipcviz.explore.result import RunResult


class Strategy:
    """Plans runs one after another; ``None`` when there is nothing left to explore."""

    name = ""

    def next_plan(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def learn(self, plan: dict[str, Any], result: RunResult) -> None:
        """What the run with ``plan`` did (its steps): used to plan the next ones."""

    def plans_ahead(self) -> bool:
        """True if the next plan does not depend on runs not learned yet: then several
        runs may go at once, with the same results as one after another."""
        return False


class PCT(Strategy):
    name = "pct"

    def __init__(self, processes: list[str], seed: int, depth: int = 2) -> None:
        self.processes = processes
        self.rng = random.Random(seed)
        self.depth = max(1, depth)
        self.k = 0  # steps of the first run (unpreempted): where change points may fall
        self.runs = 0

    def next_plan(self) -> dict[str, Any] | None:
        self.runs += 1
        if self.runs == 1:
            return {"prefix": []}  # learn k, and try the plain sequential order first
        n, d = len(self.processes), self.depth
        values = list(range(d, d + n))
        self.rng.shuffle(values)
        prio = dict(zip(self.processes, values, strict=True))
        k = max(self.k, 1)
        # the i-th change point (in the order drawn, so their order in time is random too)
        # lowers the process going there to d-1-i: below every initial priority
        points = self.rng.sample(range(k), min(d - 1, k))
        changes = {str(p): float(d - 1 - i) for i, p in enumerate(points)}
        return {"pct": {"prio": prio, "changes": changes}}

    def learn(self, plan: dict[str, Any], result: RunResult) -> None:
        if not self.k:  # k: the first run's length (fixed, so plans never depend on how
            self.k = max(1, len(result.steps))  # many runs were in flight: see plans_ahead)

    def plans_ahead(self) -> bool:
        return self.k > 0


@dataclass
class _Node:
    enabled: list[str]
    chosen: str
    tried: set[str] = field(default_factory=set)
    preemptions: int = 0  # before this step


class DFS(Strategy):
    name = "dfs"

    def __init__(self, bound: int = 2) -> None:
        self.bound = max(0, bound)
        self.stack: list[_Node] = []
        self.started = False
        self.exhausted = False

    def next_plan(self) -> dict[str, Any] | None:
        if not self.started:
            self.started = True
            return {"prefix": []}
        while self.stack:
            i = len(self.stack) - 1
            node = self.stack[i]
            prev = self.stack[i - 1].chosen if i > 0 else ""
            for alt in node.enabled:
                if alt in node.tried:
                    continue
                cost = node.preemptions + (1 if prev in node.enabled and alt != prev else 0)
                if cost > self.bound:
                    node.tried.add(alt)
                    continue
                node.tried.add(alt)
                return {"prefix": [n.chosen for n in self.stack[:i]] + [alt]}
            self.stack.pop()
        self.exhausted = True
        return None

    def learn(self, plan: dict[str, Any], result: RunResult) -> None:
        prefix = plan.get("prefix", [])
        steps = result.steps
        if prefix and len(self.stack) >= len(prefix) and len(steps) >= len(prefix):
            # the node where this run turned keeps what was tried there
            self.stack = self.stack[: len(prefix)]
            self.stack[-1].chosen = steps[len(prefix) - 1].chosen
            start = len(prefix)
        else:
            self.stack, start = [], 0
        for i in range(start, len(steps)):
            node = _Node(list(steps[i].enabled), steps[i].chosen, {steps[i].chosen})
            if i > 0:
                # preemptions before step i: those before i-1, plus i-1's own
                node.preemptions = self.stack[i - 1].preemptions + _switch(self.stack, i - 1)
            self.stack.append(node)


def _switch(stack: list[_Node], j: int) -> int:
    """1 if step ``j`` switched away from a process that could have gone on."""
    if j <= 0:
        return 0
    return int(stack[j - 1].chosen in stack[j].enabled and stack[j].chosen != stack[j - 1].chosen)


class Seeded(Strategy):
    """The baseline: run i is ``ipcviz run --seed S+i`` (a uniform random choice at every
    gate). It shows why a search needs a strategy: a bug that needs one process to wait
    through many steps of another is almost never hit by coin flips."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def next_plan(self) -> dict[str, Any] | None:
        plan = {"random": self.seed}
        self.seed += 1
        return plan

    def plans_ahead(self) -> bool:
        return True


def make(strategy: str, processes: list[str], seed: int, depth: int | None) -> Strategy:
    if strategy == "dfs":
        return DFS(2 if depth is None else depth)
    if strategy == "random":
        return Seeded(seed)
    return PCT(processes, seed, 2 if depth is None else depth)
