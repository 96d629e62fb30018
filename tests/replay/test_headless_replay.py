"""``replay --headless`` writes its lines in blocks: the same bytes as one line per event,
and what was told before a bad line further on is on stdout before the error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ipcviz.errors import TraceError
from ipcviz.events.trace import TraceReader
from ipcviz.narrate.headless import Narrator
from ipcviz.replay import headless
from tests.conftest import BuiltinTraces, ipcviz


def told(header: dict, events: list[dict]) -> list[str]:
    """The log line by line, as the narrator words each event (the unbuffered way)."""
    narrator = Narrator(header, "en")
    lines = narrator.intro()
    for event in events:
        lines += narrator.feed(event)
    return lines


def test_replay_prints_the_narrators_lines_then_the_bad_lines_error(
    builtin_traces: BuiltinTraces, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, header, events = builtin_traces.copy("shm-race", tmp_path)
    assert result.returncode == 0, result.stderr
    trace = tmp_path / "shm-race.jsonl"
    whole = ipcviz("replay", str(trace), "--headless", "--lang", "en", check=True)
    assert whole.stdout.splitlines()[1:] == told(header, events)
    # a line that is not JSON after most of the events
    lines = trace.read_text().splitlines()
    cut = len(lines) - 3
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([*lines[:cut], "{not json", *lines[cut:]]) + "\n")
    res = ipcviz("replay", str(broken), "--headless", "--lang", "en")
    assert res.returncode == 2 and f"line {cut + 1} is not a JSON event" in res.stderr
    assert res.stdout.splitlines()[1:] == told(header, events[: cut - 1])
    # in small blocks (many writes): the same lines, all of them out before the error
    monkeypatch.setattr(headless, "BLOCK", 50)
    out = io.StringIO()
    with pytest.raises(TraceError):
        headless.replay_headless(TraceReader.open(broken), "en", out)
    assert out.getvalue().splitlines() == told(header, events[: cut - 1])
