"""Every built-in scenario proves its teaching points on the real kernel, in both languages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ipcviz.scenario.api import T_IDS
from ipcviz.scenario.loader import load_builtins
from tests.conftest import BuiltinTraces, ipcviz, read_trace

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _listed() -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "ipcviz", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    return json.loads(out.stdout)


LISTED = _listed()
IDS = [s["id"] for s in LISTED]


def _c_needs_tools(sid: str) -> object:
    """A C example (``c/NAME``) is compiled and traced: skipped without gcc or strace."""
    from tests.anyprog.test_programs import needs_tools

    return pytest.param(sid, marks=needs_tools) if sid.startswith("c/") else sid


@pytest.mark.parametrize("scenario_id", [_c_needs_tools(sid) for sid in IDS])
def test_runs_quick_with_its_checks_passing(scenario_id: str, builtin_traces: BuiltinTraces):
    result, trace = builtin_traces.run(scenario_id)  # recorded once, read by other tests too
    header, events = read_trace(trace)
    checks = [e for e in events if e["kind"] == "check"]
    failed = [f"{c['description']}: {c.get('detail', '')}" for c in checks if not c["ok"]]
    assert result.returncode == 0, (failed, result.stderr[-2000:], result.stdout[-2000:])
    assert header["scenario"]["id"] == scenario_id and header["quick"] is True
    assert checks and not failed
    assert len(checks) == len(header["scenario"]["checks"])  # every declared check ran
    assert events[-1]["kind"] == "session.end" and events[-1]["outcome"] == "passed"


def test_teaching_points_cover_t1_to_t35():
    covered = {t for s in LISTED for t in s["teaches"]}
    assert sorted(set(T_IDS) - covered, key=lambda t: int(t[1:])) == []


def test_every_narration_step_has_english_and_korean_text():
    missing = []
    for sc in load_builtins():
        assert sc.steps, f"{sc.id} has no narration steps"
        assert sc.description.strip() and sc.checks, sc.id
        for step in sc.steps:
            if not step.en.strip():
                missing.append(f"{sc.id}/{step.id}: en")
            if not step.ko.strip() or not HANGUL.search(step.ko):
                missing.append(f"{sc.id}/{step.id}: ko")
            unknown = set(step.teaches) - set(T_IDS)
            assert not unknown, f"{sc.id}/{step.id} teaches unknown {unknown}"
    assert missing == []


def test_lang_ko_prints_korean_narration(tmp_path: Path):
    trace = tmp_path / "ko.jsonl"
    ko = ipcviz(
        "run", "pipe-bytestream", "--headless", "--quick", "--lang", "ko", "--record", str(trace)
    )
    assert ko.returncode == 0, ko.stderr
    narration = [line for line in ko.stdout.splitlines() if "── " in line]
    assert narration and all(HANGUL.search(line) for line in narration)
    en = ipcviz("replay", str(trace), "--headless", "--lang", "en")
    assert en.returncode == 0, en.stderr
    narration = [line for line in en.stdout.splitlines() if "── " in line]
    assert narration and not any(HANGUL.search(line) for line in narration)
