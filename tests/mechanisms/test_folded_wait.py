"""A call that can block and whose begin was folded into its end (``since``: no
``….begin`` event told the wait) is told with how long it took when that is long enough to
see: "took s (value now 0); the call took 22.0 ms", not an instant "took". A short call,
or one whose wait was told by its own begin event, reads as before."""

from __future__ import annotations

from typing import Any

from ipcviz.narrate.headless import Narrator

HEADER = {"format": "ipcviz-trace", "version": 1}


def _told(*ends: dict[str, Any], lang: str = "en") -> list[str]:
    """What the log says of ``ends`` (semaphore ``s``'s events of process 7)."""
    narrator = Narrator(HEADER, lang=lang)
    narrator.feed(
        {"t": 1, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "s", "type": "posix_sem",
         "kernel_name": "/s", "value": 3}
    )  # fmt: skip
    narrator.feed({"t": 2, "seq": 1, "pid": 7, "kind": "proc.start", "name": "w"})
    events = [{"seq": 2 + i, "pid": 7, "obj": "s", **end} for i, end in enumerate(ends)]
    return [line for e in events for line in narrator.feed(e)]


def test_a_long_folded_wait_says_how_long_the_call_took() -> None:
    long = {"t": 30_000_000, "since": 8_000_000, "kind": "sem.wait"}
    (line,) = _told(long)
    assert line.endswith("took s (value now 2); the call took 22.0 ms"), line
    (ko,) = _told(long, lang="ko")
    assert ko.endswith("; 호출에 22.0 ms 걸림"), ko


def test_a_short_call_or_a_told_wait_reads_as_before() -> None:
    short = {"t": 30_000_000, "since": 29_700_000, "kind": "sem.wait"}
    assert "the call took" not in _told(short)[0]
    begun = [{"t": 8_000_000, "kind": "sem.wait.begin"}, {"t": 30_000_000, "kind": "sem.wait"}]
    told = _told(*begun)
    assert not any("the call took" in line for line in told), told
