"""A System V semop on several semaphores: the kernel applies its parts all at once, and
ipcviz must show them so (a correct program accused, a semaphore at -1, was the bug)."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from ipcviz.events.trace import TraceReader
from ipcviz.mechanisms.posix_sem.state import SemObj
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools, said, watch
from tests.faults.harness import read_lines, wait_for
from tests.mechanisms.helpers import by_kind
from tests.mechanisms.test_semop_asleep_on_several import agrees, seen_before_posts

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


#: The child sleeps in one semop on all three semaphores of a set (1, 0, 0): the kernel
#: counts it on the second. The parent waits until semncnt says so, prints every semncnt,
#: waits for the test to see the wait in the trace (the file GO), posts the second (now the
#: third blocks it), prints them again, and posts the third.
ASLEEP_ON_THREE = r"""
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/wait.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void counts(int set, const char *when)
{
    printf("%s %d %d %d\n", when, semctl(set, 0, GETNCNT), semctl(set, 1, GETNCNT),
           semctl(set, 2, GETNCNT));
    fflush(stdout);
}

static void post(int set, int num)
{
    struct sembuf b = {num, 1, 0};
    semop(set, &b, 1);
}

int main(int argc, char **argv)
{
    struct timespec pause = {0, 1000000};
    int set = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    union semun one = {.val = 1}, zero = {.val = 0};
    semctl(set, 0, SETVAL, one);
    semctl(set, 1, SETVAL, zero);
    semctl(set, 2, SETVAL, zero);
    pid_t pid = fork();
    if (pid == 0) {
        struct sembuf all[3] = {{0, -1, 0}, {1, -1, 0}, {2, -1, 0}};
        return semop(set, all, 3) < 0;
    }
    while (semctl(set, 1, GETNCNT) < 1) /* until the kernel counts it asleep */
        nanosleep(&pause, NULL);
    counts(set, "FIRST");
    while (access(argv[1], F_OK) != 0)
        nanosleep(&pause, NULL);
    post(set, 1);
    counts(set, "SECOND");
    post(set, 2);
    int status;
    waitpid(pid, &status, 0);
    semctl(set, 0, IPC_RMID);
    printf("CHILD %d\n", WEXITSTATUS(status));
    return 0;
}
"""


@needs_tools
def test_a_program_asleep_in_one_semop_on_three_is_shown_as_the_kernel_counts_it(
    tmp_path: Path,
) -> None:
    """strace's ``semop(ID, [{0, -1, 0}, {1, -1, 0}, {2, -1, 0}], 3 <unfinished ...>``:
    its begin named the first semaphore only (free, at 1): shown waiting on it, and on
    nobody's list the one at 0 that the kernel counted it on."""
    binary = compile_c(tmp_path, "three", ASLEEP_ON_THREE)
    trace, go, log = tmp_path / "run.jsonl", tmp_path / "go", tmp_path / "out.txt"
    argv = ["run", "--headless", "--record", str(trace), "--", str(binary), str(go)]
    with log.open("wb") as out:
        run = subprocess.Popen([sys.executable, "-m", "ipcviz", *argv], stdout=out, stderr=out)
    try:
        wait_for(
            "the child's begin in the trace",
            lambda: any(e["kind"] == "sem.wait.begin" for e in read_lines(trace)[1]),
        )
        go.touch()
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, log.read_text()[-3000:]
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout
    events = list(TraceReader.open(trace).events())
    lines = {w[0]: [int(x) for x in w[1:-1]] for w in said(events)}
    assert lines["FIRST"] == [0, 1, 0] and lines["SECOND"] == [0, 0, 1], lines
    assert lines["CHILD"] == [0]
    starts = by_kind(events, "proc.start")
    parent = starts[0]["pid"]
    (begin,) = by_kind(events, "sem.wait.begin")
    names = sorted(e["obj"] for e in by_kind(events, "obj.declare") if e["type"] == "sysv_sem")
    assert len(names) == 3 and names[0].endswith("[0]"), names
    first, second = seen_before_posts(events, parent, names)
    agrees(first, lines["FIRST"], names, begin["pid"])
    agrees(second, lines["SECOND"], names, begin["pid"])
