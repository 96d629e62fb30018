"""The log tells a further part of one semop (``joined``) as part of the same call: the
two lines are one instant, not a moment when one semaphore was taken and the other not."""

from __future__ import annotations

from typing import Any

from ipcviz.narrate.headless import Narrator

HEADER: dict[str, Any] = {"format": "ipcviz-trace", "version": 1}


def _told(lang: str) -> list[str]:
    narrator = Narrator(HEADER, lang=lang)
    for i in range(2):
        narrator.feed(
            {"t": 1, "seq": i, "pid": 0, "kind": "obj.declare", "obj": f"semid:5[{i}]",
             "type": "sysv_sem", "value": 1}
        )  # fmt: skip
    narrator.feed({"t": 2, "seq": 2, "pid": 7, "kind": "proc.start", "name": "w"})
    parts = [
        {"t": 3, "seq": 3, "pid": 7, "kind": "sem.wait", "obj": "semid:5[0]"},
        {"t": 3, "seq": 4, "pid": 7, "kind": "sem.wait", "obj": "semid:5[1]", "joined": 1},
    ]
    return [line for e in parts for line in narrator.feed(e)]


def test_a_joined_part_says_it_is_the_same_semop_in_english_and_korean() -> None:
    first, second = _told("en")
    assert first.endswith("took semid:5[0] (value now 0)")
    assert second.endswith("took semid:5[1] (value now 0), in the same semop: at the same instant")
    first, second = _told("ko")
    assert "same" not in first + second
    assert second.endswith("semid:5[1] 얻음 (현재 값 0), 같은 semop 호출 안에서: 같은 순간에")
