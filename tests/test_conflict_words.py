"""An ``order.conflict`` in the log: worded (it was printed raw, ``order.conflict obj=…
message=…``), in the language shown, and it says the fault is ipcviz's, not the program's
(a correct program was accused, and nothing on the line said otherwise)."""

from __future__ import annotations

from typing import Any

from ipcviz.events import phrases
from ipcviz.narrate.headless import Narrator

HEADER: dict[str, Any] = {"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x"}}


def _told(conflict: dict[str, Any], lang: str) -> str:
    narrator = Narrator(HEADER, lang=lang)
    narrator.feed(
        {"t": 1, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "semid:5[1]",
         "type": "sysv_sem", "value": 0}
    )  # fmt: skip
    narrator.feed({"t": 2, "seq": 1, "pid": 7, "kind": "proc.start", "name": "w"})
    (line,) = narrator.feed({"t": 3, "seq": 2, "pid": 7, "kind": "order.conflict", **conflict})
    return line


def test_an_order_conflict_says_it_is_ipcvizs_fault_in_english_and_korean() -> None:
    message = phrases.CONFLICT.format(reason=phrases.NO_PLACE)
    english = _told({"obj": "semid:5[1]", "message": message}, "en")
    assert "order.conflict" not in english and "message=" not in english
    assert f"ORDER CONFLICT on semid:5[1]: {message}." in english
    assert "a fault of ipcviz" in english and "not of the program" in english
    korean = _told({"obj": "semid:5[1]", "message": message}, "ko")
    assert "순서 충돌 (semid:5[1])" in korean and "ipcviz의 잘못" in korean
    # the engine's English reason, worded too where the catalog has it
    assert "no legal place" not in korean and "no order" not in korean
    assert "fault" not in korean


def test_a_rule_s_reason_stays_as_recorded_and_an_unknown_message_too() -> None:
    """A legality rule's reason carries values (not a catalog sentence): as the engine
    wrote it, inside the worded line; a message of no template, as it is."""
    message = phrases.CONFLICT.format(reason="wait completed at value 0")
    korean = _told({"obj": "semid:5[1]", "message": message}, "ko")
    assert "wait completed at value 0" in korean and "순서 충돌" in korean
    english = _told({"message": "something else"}, "en")
    assert english.endswith("ORDER CONFLICT: something else. This is a fault of ipcviz (its "
                            "ordering, or a record it lost), not of the program")  # fmt: skip
