"""cpu-layouts: every round says which layout it is, in English and Korean."""

from __future__ import annotations

from pathlib import Path

from ipcviz.scenario.loader import load, resolve
from tests.conftest import BuiltinTraces


def test_every_round_narrates_its_own_layout(builtin_traces: BuiltinTraces, tmp_path: Path):
    """nu2: rounds 2 and 3 switched layouts with no new narration, so during round 2
    (pinned) the screen said "Now the workers are spread over all 2 CPUs" while every
    worker showed cpu# 0. Each round's reports now follow a step naming its layout."""
    result, header, events = builtin_traces.copy("cpu-layouts", tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    steps = [s["id"] for s in header["scenario"]["steps"]]
    rounds = header["scenario"]["params"]["rounds"]
    said = [e["step"] for e in events if e["kind"] == "narrate"]
    again = ["pinned-again", "spread-again"] * (rounds - 1)
    assert said == ["pinned", "spread", *again, "compare"], said
    # what the screen says while a round's results come in is that round's layout
    w1 = next(e["pid"] for e in events if e["kind"] == "proc.start" and e["name"] == "w1")
    shown = None
    for e in events:
        if e["kind"] == "narrate":
            shown = e["step"]
        elif e["kind"] == "report" and e["pid"] == w1 and e["key"].startswith("round"):
            assert shown is not None and shown.split("-")[0] == e["key"].split("_")[1], e
    # both languages, and the numbers of this machine in both
    scenario = load(resolve("cpu-layouts"))
    for step_id in ("pinned-again", "spread-again"):
        step = scenario.steps[steps.index(step_id)]
        assert step.en and step.ko and step.en != step.ko
