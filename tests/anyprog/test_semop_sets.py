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


#: One IPC_NOWAIT semop on a free semaphore and one at 0 (EAGAIN), then one on the one at 0
#: alone (EAGAIN): values given by SETVAL, which strace prints, so the model knows them.
NOWAIT_PAIR = r"""
#include <errno.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/sem.h>
int main(void)
{
    int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    semctl(id, 0, SETVAL, 1);
    semctl(id, 1, SETVAL, 0);
    struct sembuf both[2] = {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}};
    struct sembuf one[1] = {{1, -1, IPC_NOWAIT}};
    int a = semop(id, both, 2), ea = errno;
    int b = semop(id, one, 1), eb = errno;
    printf("BOTH %d %d\nONE %d %d\n", a, ea, b, eb);
    semctl(id, 0, IPC_RMID);
    return 0;
}
"""


@needs_tools
def test_a_failed_nowait_semop_on_two_accuses_neither(tmp_path: Path) -> None:
    """The kernel refuses the pair (EAGAIN) without saying which one was too low: it was
    recorded as a failed try-wait of the first, which was free ("trywait failed at value
    1": an order.conflict, verify illegal). Now only a failed call for one unit of one
    semaphore is recorded; the pair changed nothing and records nothing."""
    binary = compile_c(tmp_path, "nowait", NOWAIT_PAIR)
    _, events = watch(tmp_path, binary)  # (verify: a legal history)
    assert said(events)[:2] == [["BOTH", "-1", "11", ""], ["ONE", "-1", "11", ""]]
    assert not [e for e in events if e["kind"] == "order.conflict"]
    tries = [(e["obj"], e["ok"]) for e in events if e["kind"] == "sem.trywait"]
    assert len(tries) == 1 and tries[0][0].endswith("[1]") and not tries[0][1], tries
