"""A System V queue and semaphore removed (IPC_RMID) while processes sleep in them, under
``ipcviz run -- PROG``: the kernel wakes each sleeper with EIDRM, and the trace says so after
the removal (a legal history, ``ipcviz verify``), as the program itself printed.

The program orders its processes by declared means (the queue's ``msg_lrpid``, /proc's
wait point, the semaphore's GETNCNT), never by timing."""

from __future__ import annotations

from pathlib import Path

from tests.anyprog.test_programs import compile_c, needs_tools, said, watch

#: A receiver takes "hi", then sleeps in msgrcv; a waiter sleeps in semop at 0; the parent
#: removes both objects once both sleep. Prints ``R n text``, then ``R -1 EIDRM`` and
#: ``W -1 EIDRM`` (what each woken call returned).
REMOVED = r"""#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg { long mtype; char text[8]; };

/* Until process ``pid`` sleeps in a call whose kernel wait point names ``what``. */
static int asleep_in(pid_t pid, const char *what)
{
    char path[64], wchan[128];
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    for (;;) {
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        size_t n = fread(wchan, 1, sizeof wchan - 1, f);
        fclose(f);
        wchan[n] = 0;
        if (strstr(wchan, what))
            return 0;
    }
}

static void failed(const char *tag, long rc)
{
    printf("%s %ld %s\n", tag, rc, rc < 0 && errno == EIDRM ? "EIDRM" : "other");
    fflush(stdout);
}

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    int s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (q < 0 || s < 0)
        return 1;
    pid_t receiver = fork();
    if (receiver == 0) {
        struct msg in;
        ssize_t n = msgrcv(q, &in, sizeof in.text, 0, 0); /* "hi": sent before the removal */
        printf("R %ld %.*s\n", (long)n, (int)(n > 0 ? n : 0), in.text);
        fflush(stdout);
        failed("R", msgrcv(q, &in, sizeof in.text, 0, 0)); /* asleep: the removal wakes it */
        _exit(0);
    }
    pid_t waiter = fork();
    if (waiter == 0) {
        struct sembuf down = {0, -1, 0};
        failed("W", semop(s, &down, 1)); /* asleep at 0: the removal wakes it */
        _exit(0);
    }
    struct msg m = {.mtype = 1};
    memcpy(m.text, "hi", 2);
    if (msgsnd(q, &m, 2, 0) < 0)
        return 1;
    /* the receiver took "hi" (the queue is empty, it was the last to receive), then
       sleeps in its second msgrcv; the waiter sleeps in semop (the kernel counts it) */
    struct msqid_ds ds;
    do
        msgctl(q, IPC_STAT, &ds);
    while (ds.msg_qnum != 0 || ds.msg_lrpid != receiver);
    if (asleep_in(receiver, "msgrcv") < 0)
        return 1;
    while (semctl(s, 0, GETNCNT) != 1)
        ;
    msgctl(q, IPC_RMID, NULL);
    semctl(s, 0, IPC_RMID);
    int status;
    waitpid(receiver, &status, 0);
    waitpid(waiter, &status, 0);
    return 0;
}
"""


@needs_tools
def test_sleepers_woken_by_the_removal_fail_after_it(tmp_path: Path) -> None:
    """Before: the woken calls' EIDRM was not recorded; the receiver's and the waiter's
    begins stayed open, drawn asleep on objects that were gone, and nothing kept a call
    that may have taken effect before a removal from being placed after it. Now each is
    ``mq.eidrm`` / ``sem.eidrm``, after its object's ``obj.remove``."""
    binary = compile_c(tmp_path, "removed", REMOVED)
    _, events = watch(tmp_path, binary)  # (verify: a legal history)
    report = said(events)
    assert ["R", "-1", "EIDRM", ""] in report and ["W", "-1", "EIDRM", ""] in report
    pids = {e["pid"]: e.get("name", "") for e in events if e["kind"] == "proc.start"}
    removed = {e["obj"]: i for i, e in enumerate(events) if e["kind"] == "obj.remove"}
    failed = [(i, e) for i, e in enumerate(events) if e["kind"] in ("mq.eidrm", "sem.eidrm")]
    assert sorted(e["kind"] for _, e in failed) == ["mq.eidrm", "sem.eidrm"]
    for i, e in failed:
        assert e["pid"] in pids
        assert removed[e["obj"]] < i  # after its object's removal
    received = [e for e in events if e["kind"] == "mq.recv"]
    assert len(received) == 1 and received[0]["mtype"] == 1
    assert not any(e["kind"] == "order.conflict" for e in events)
