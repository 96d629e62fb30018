"""A System V semop on several semaphores: the kernel applies its parts all at once, and
ipcviz must show them so (a correct program accused, a semaphore at -1, was the bug)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, needs_tools, said, watch

ROUNDS = 200


@needs_tools
def test_one_semop_on_two_semaphores_is_one_instant_and_accuses_nobody(tmp_path: Path) -> None:
    """Each round the child sleeps in a wait on two semaphores and the parent's one semop
    posting both wakes it: the child's return is often stamped before the parent's, and a
    part of either call stamped alone at its call's end had no legal place."""
    binary = compile_c(tmp_path, "pairs", programs.SEMOP_PAIRS)
    _, events = watch(tmp_path, binary, str(ROUNDS))  # (verify: a legal history)
    assert said(events)[-1] == ["ROUNDS", str(ROUNDS), ""]
    assert not [e for e in events if e["kind"] == "order.conflict"]
    ops = [e for e in events if e["kind"] in ("sem.wait", "sem.post")]
    assert len(ops) == 8 * ROUNDS  # two calls a round each, two semaphores a call
    # each call's second part is joined to its first, right after it: nothing between
    for before, part in pairwise(events):
        if part.get("joined"):
            assert before["kind"] == part["kind"] and before["pid"] == part["pid"], part
    assert sum(1 for e in ops if e.get("joined")) == 4 * ROUNDS
    state = State()  # and no semaphore is ever shown below zero
    for e in events:
        apply(state, e)
        assert all(o.value >= 0 for o in state.objects.values() if isinstance(o, SemObj)), e
