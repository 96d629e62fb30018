"""System V queues under ``ipcviz run -- PROG`` show what the kernel did: a C program
prints what each of its msgsnd/msgrcv/msgctl calls did, and the trace (a legal history,
``ipcviz verify``), the log and the model's queue at the end say the same.

The programs order their processes by declared means (``waitpid``, a parent that waits
until /proc shows its child asleep in the call), never by timing."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from ipcviz.events.codec import payload
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_mq.view import queue_lines
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.anyprog.test_programs import compile_c, needs_tools, said, watch

#: ``MSG_COPY``: copies of the messages at index 1 and 2 (they stay), a child takes the
#: copied one of type 2, then a copy at index 1 is the next one along. Prints ``S``/``C``/
#: ``R`` (msgtyp as passed, type got, bytes in hex) and ``STAT qnum cbytes qbytes``.
COPY = r"""#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct msg { long mtype; char text[16]; };

static void say(const char *tag, long arg, long type, const char *b, ssize_t n)
{
    printf("%s %ld %ld ", tag, arg, type);
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)b[i]);
    printf("\n");
    fflush(stdout);
}

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0)
        return 1;
    const char *texts[] = {"a1", "b2", "c3"};
    for (int i = 0; i < 3; i++) {
        struct msg m = {.mtype = i + 1};
        memcpy(m.text, texts[i], 2);
        if (msgsnd(q, &m, 2, 0) == 0)
            say("S", 0, m.mtype, m.text, 2);
    }
    /* copies of the messages at index 1 and 2: they stay in the queue */
    for (long i = 1; i <= 2; i++) {
        struct msg m;
        ssize_t n = msgrcv(q, &m, sizeof m.text, i, MSG_COPY | IPC_NOWAIT);
        if (n < 0) {  /* no MSG_COPY here (a kernel without CONFIG_CHECKPOINT_RESTORE) */
            msgctl(q, IPC_RMID, NULL);
            return 2;
        }
        say("C", i, m.mtype, m.text, n);
    }
    pid_t pid = fork();
    if (pid == 0) {  /* takes the message of type 2 that was copied */
        struct msg m;
        ssize_t n = msgrcv(q, &m, sizeof m.text, 2, 0);
        if (n < 0)
            return 1;
        say("R", 2, m.mtype, m.text, n);
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    struct msg m;
    ssize_t n = msgrcv(q, &m, sizeof m.text, 1, MSG_COPY | IPC_NOWAIT);  /* now c3 */
    if (n >= 0)
        say("C", 1, m.mtype, m.text, n);
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    printf("STAT %lu %lu %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           (unsigned long)ds.msg_qbytes);
    fflush(stdout);
    msgctl(q, IPC_RMID, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""

#: ``MSG_EXCEPT``: the oldest message of any other type; with a negative msgtyp the kernel
#: ignores the flag (lowest type <= 3); the last receive waits until the parent, once the
#: child sleeps in msgrcv, sends a message of the type it excludes (no wake-up) and one
#: of another type.
EXCEPT = r"""#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg { long mtype; char text[16]; };

static void say(const char *tag, long arg, long type, const char *b, ssize_t n)
{
    printf("%s %ld %ld ", tag, arg, type);
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)b[i]);
    printf("\n");
    fflush(stdout);
}

static int send(int q, long type, const char *text)
{
    struct msg m = {.mtype = type};
    memcpy(m.text, text, 2);
    if (msgsnd(q, &m, 2, 0) < 0)
        return -1;
    say("S", 0, type, text, 2);
    return 0;
}

/* Until process ``pid`` sleeps in msgrcv: its /proc wchan says so. */
static int asleep_in_msgrcv(pid_t pid)
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
        if (strstr(wchan, "msgrcv"))
            return 0;
    }
}

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0)
        return 1;
    send(q, 1, "a1");
    send(q, 1, "a2");
    send(q, 2, "b1");
    send(q, 3, "c1");
    pid_t pid = fork();
    if (pid == 0) {
        /* MSG_EXCEPT: the oldest message whose type is not msgtyp (b1, then a1); with a
           negative msgtyp it is ignored (lowest type <= 3: a2); the last one waits */
        const long wants[] = {1, 2, -3, 1, 1};
        for (int i = 0; i < 5; i++) {
            struct msg m;
            ssize_t n = msgrcv(q, &m, sizeof m.text, wants[i], MSG_EXCEPT);
            if (n < 0)
                return 1;
            say("R", wants[i], m.mtype, m.text, n);
        }
        return 0;
    }
    /* the child waits for a type other than 1: a3 does not wake it, d1 does */
    if (asleep_in_msgrcv(pid) < 0)
        return 1;
    send(q, 1, "a3");
    send(q, 4, "d1");
    int status;
    waitpid(pid, &status, 0);
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    printf("STAT %lu %lu %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           (unsigned long)ds.msg_qbytes);
    fflush(stdout);
    msgctl(q, IPC_RMID, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""

#: ``msgctl(IPC_SET)``: the limit lowered to 8 bytes (two 4-byte messages fill it: the
#: third send is refused, a child's waits until the parent receives one), then raised to
#: 16 (two more fit, a third is refused). Prints ``SET n``, ``S text ok|EAGAIN``, ``R``.
QBYTES = r"""#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg { long mtype; char text[8]; };

static void stat_(int q)
{
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    printf("STAT %lu %lu %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
           (unsigned long)ds.msg_qbytes);
    fflush(stdout);
}

static int set_qbytes(int q, unsigned long n)
{
    struct msqid_ds ds;
    if (msgctl(q, IPC_STAT, &ds) < 0)
        return -1;
    ds.msg_qbytes = n;
    if (msgctl(q, IPC_SET, &ds) < 0)
        return -1;
    printf("SET %lu\n", n);
    fflush(stdout);
    return 0;
}

static void send(int q, const char *text, int flags)
{
    struct msg m = {.mtype = 1};
    memcpy(m.text, text, 4);
    int r = msgsnd(q, &m, 4, flags);
    printf("S %s %s\n", text, r == 0 ? "ok" : errno == EAGAIN ? "EAGAIN" : "error");
    fflush(stdout);
}

/* Until process ``pid`` sleeps in msgsnd: its /proc wchan says so. */
static int asleep_in_msgsnd(pid_t pid)
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
        if (strstr(wchan, "msgsnd"))
            return 0;
    }
}

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0 || set_qbytes(q, 8) < 0)  /* two 4-byte messages fill it */
        return 1;
    send(q, "abcd", IPC_NOWAIT);
    send(q, "efgh", IPC_NOWAIT);
    send(q, "ijkl", IPC_NOWAIT);  /* refused: 8 of 8 bytes held */
    pid_t pid = fork();
    if (pid == 0) {  /* waits for room */
        send(q, "mnop", 0);
        return 0;
    }
    if (asleep_in_msgsnd(pid) < 0)
        return 1;
    struct msg m;
    ssize_t n = msgrcv(q, &m, sizeof m.text, 0, 0);  /* makes room: the child's send goes */
    printf("R %.*s\n", (int)n, m.text);
    fflush(stdout);
    int status;
    waitpid(pid, &status, 0);
    if (set_qbytes(q, 16) < 0)  /* raised: room for two more */
        return 1;
    send(q, "qrst", IPC_NOWAIT);
    send(q, "uvwx", IPC_NOWAIT);
    send(q, "yz01", IPC_NOWAIT);  /* refused: 16 of 16 bytes held */
    stat_(q);
    msgctl(q, IPC_RMID, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
"""


#: ``MSG_EXCEPT`` with ``MSG_NOERROR``: "bbbbbbbb" (type 2) cut to the 4-byte buffer.
EXCEPT_CUT = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/msg.h>
struct msg { long type; char text[8]; };
int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    struct msg a = {1, "aaaa"}, b = {2, "bbbbbbbb"}, got;
    msgsnd(q, &a, 4, 0);
    msgsnd(q, &b, 8, 0);
    ssize_t n = msgrcv(q, &got, 4, 1, MSG_EXCEPT | MSG_NOERROR);
    printf("R %zd %ld %.*s\n", n, got.type, (int)n, got.text);
    n = msgrcv(q, &got, 4, 0, 0);
    printf("R %zd %ld %.*s\n", n, got.type, (int)n, got.text);
    msgctl(q, IPC_RMID, NULL);
    return 0;
}
"""


def _at_removal(events: list[dict[str, Any]]) -> tuple[State, QueueObj]:
    """The model (replayed from the trace) and its queue just before the program removed
    it."""
    state = State()
    for e in events:
        if e["kind"] == "obj.remove" and e["obj"].startswith("msqid:"):
            obj = state.objects[e["obj"]]
            assert isinstance(obj, QueueObj)
            return state, obj
        apply(state, e)
    raise AssertionError("the program did not remove its queue")


def _queue_at_removal(events: list[dict[str, Any]]) -> QueueObj:
    return _at_removal(events)[1]


def _stat(report: list[list[str]]) -> tuple[int, int, int]:
    """The kernel's qnum, cbytes and qbytes, as the program read them (IPC_STAT) last."""
    line = [w for w in report if w[0] == "STAT"][-1]
    return int(line[1]), int(line[2]), int(line[3])


def _messages(obj: QueueObj) -> list[tuple[int, bytes]]:
    return [(m[0], m[1]) for m in obj.messages]


@needs_tools
def test_msg_copy_leaves_the_message_in_the_queue(tmp_path: Path) -> None:
    """Before: a MSG_COPY was a plain receive. The copy of "b2" took it out of the model's
    queue, so the child's real receive of "b2" came from nowhere: 7 ``order.conflict``
    events, ``ipcviz verify``: 11 violations. Now each copy is ``mq.copy`` (the index asked
    for as ``want``): the message stays, and the child's receive takes it."""
    binary = compile_c(tmp_path, "copy", COPY)
    if subprocess.run([binary], capture_output=True).returncode == 2:
        pytest.skip("this kernel has no MSG_COPY (CONFIG_CHECKPOINT_RESTORE)")
    _, events = watch(tmp_path, binary)  # (verify: a legal history)
    report = said(events)
    row = [w for w in report if w[0] in "SCR" and len(w) == 5]
    sent = [(int(w[2]), bytes.fromhex(w[3])) for w in row if w[0] == "S"]
    copied = [(int(w[1]), int(w[2]), bytes.fromhex(w[3])) for w in row if w[0] == "C"]
    got = [(int(w[2]), bytes.fromhex(w[3])) for w in row if w[0] == "R"]
    assert copied == [(1, 2, b"b2"), (2, 3, b"c3"), (1, 3, b"c3")]  # what the kernel did
    shown = [(e["want"], e["mtype"], payload(e)) for e in events if e["kind"] == "mq.copy"]
    assert shown == copied
    assert [(e["mtype"], payload(e)) for e in events if e["kind"] == "mq.recv"] == got
    assert not any(e["kind"] == "order.conflict" for e in events)
    queue = _queue_at_removal(events)
    left = [m for m in sent if m not in got]
    assert _messages(queue) == left == [(1, b"a1"), (3, b"c3")]
    qnum, cbytes, _ = _stat(report)
    assert (len(queue.messages), queue.nbytes) == (qnum, cbytes)


@needs_tools
def test_msg_except_takes_the_oldest_message_of_another_type(tmp_path: Path) -> None:
    """Before: a MSG_EXCEPT receive was checked as one of exactly that type ("b1", type 2,
    taken by msgrcv(1, MSG_EXCEPT) is no message of type 1): 11 ``order.conflict`` events,
    ``ipcviz verify``: 15 violations. Now it is ``mq.recv`` with ``except``, selected as the
    kernel does (the oldest of any other type); with a negative msgtyp the flag is ignored
    (lowest type <= 3), as the kernel does too."""
    binary = compile_c(tmp_path, "except", EXCEPT)
    done, events = watch(tmp_path, binary)  # (verify: a legal history)
    report = said(events)
    row = [w for w in report if w[0] in "SR" and len(w) == 5]
    sent = [(int(w[2]), bytes.fromhex(w[3])) for w in row if w[0] == "S"]
    got = [(int(w[1]), int(w[2]), bytes.fromhex(w[3])) for w in row if w[0] == "R"]
    assert [g[2] for g in got] == [b"b1", b"a1", b"a2", b"c1", b"d1"]  # what the kernel did
    shown = [
        (e["want"], e["mtype"], payload(e), e.get("except", 0))
        for e in events
        if e["kind"] == "mq.recv"
    ]
    assert shown == [(*g, int(g[0] > 0)) for g in got]
    assert not any(e["kind"] == "order.conflict" for e in events)
    assert "(MSG_EXCEPT: any type but 1)" in done.stdout
    queue = _queue_at_removal(events)
    assert _messages(queue) == [m for m in sent if m not in [g[1:] for g in got]] == [(1, b"a3")]
    qnum, cbytes, _ = _stat(report)
    assert (len(queue.messages), queue.nbytes) == (qnum, cbytes)


@needs_tools
def test_the_limit_follows_msgctl_ipc_set(tmp_path: Path) -> None:
    """Before: IPC_SET was ignored. The queue kept the limit it was declared with (msgmnb,
    16384 B): the bar said 16/16384 B where the kernel held 16 of 16, and a send refused
    (EAGAIN) was legal whatever the queue held (the rule had no size to check). Now each
    IPC_SET is ``mq.limit`` from its return on, a refused System V send says its size, and
    the rule checks that it did not fit: the two refusals are legal at 8 of 8 and 16 of 16
    bytes, and would not be under msgmnb."""
    binary = compile_c(tmp_path, "qbytes", QBYTES)
    done, events = watch(tmp_path, binary)  # (verify: a legal history)
    report = said(events)
    limits = [e["max_bytes"] for e in events if e["kind"] == "mq.limit"]
    assert limits == [int(w[1]) for w in report if w[0] == "SET"] == [8, 16]
    calls = [w[2] for w in report if w[0] == "S"]
    assert calls == ["ok", "ok", "EAGAIN", "ok", "ok", "ok", "EAGAIN"]
    refused = [(e.get("send"), e.get("size")) for e in events if e["kind"] == "mq.again"]
    assert refused == [(1, 4), (1, 4)]
    assert not any(e["kind"] == "order.conflict" for e in events)
    assert "set the limit of msqid:" in done.stdout and "to 8 B" in done.stdout
    state, queue = _at_removal(events)
    qnum, cbytes, qbytes = _stat(report)
    assert (len(queue.messages), queue.nbytes, queue.max_bytes) == (qnum, cbytes, qbytes)
    drawn = "".join(seg.text for line in queue_lines(state, queue, 60) for seg in line)
    assert f"{qnum} msgs, {cbytes}/{qbytes} B" in drawn  # the bar (before: 16/16384 B)
    assert _messages(queue) == [(1, b"efgh"), (1, b"mnop"), (1, b"qrst"), (1, b"uvwx")]


@needs_tools
def test_msg_except_with_msg_noerror_is_checked_as_both(tmp_path: Path) -> None:
    """A MSG_EXCEPT receive that filled its buffer with MSG_NOERROR took "bbbbbbbb" cut to
    "bbbb": checked as an exact-size receive of any type but 1, it matched no message
    (``order.conflict``); it is ``mq.recv`` with ``except`` and ``cut`` now."""
    binary = compile_c(tmp_path, "except_cut", EXCEPT_CUT)
    _, events = watch(tmp_path, binary)  # (verify: a legal history)
    assert [w[:3] for w in said(events)] == [["R", "4", "2"], ["R", "4", "1"]]
    got = [
        (e["mtype"], payload(e), e.get("except"), e.get("cut"))
        for e in events
        if e["kind"] == "mq.recv"
    ]
    assert got == [(2, b"bbbb", 1, 1), (1, b"aaaa", None, None)]
    assert not any(e["kind"] == "order.conflict" for e in events)


def test_only_an_ipc_set_that_succeeded_gives_a_limit() -> None:
    """As strace prints them: IPC_SET to 8 B (done), then past msgmnb without
    CAP_SYS_RESOURCE (EPERM, as on a container's root): one ``mq.limit``, 8."""
    from tests.anyprog.test_mapper import kinds, run

    ds = "{msg_perm={uid=0, gid=0, mode=0600}, msg_qbytes=%d}"
    text = (
        "7 1795996295.800000 msgget(IPC_PRIVATE, IPC_CREAT|0600) = 42 <0.000010>\n"
        f"7 1795996295.800100 msgctl(42, IPC_SET, {ds % 8}) = 0 <0.000002>\n"
        f"7 1795996295.800200 msgctl(42, IPC_SET, {ds % 100000}) = -1 EPERM "
        "(Operation not permitted) <0.000002>\n"
        "7 1795996295.800300 msgctl(42, IPC_RMID, NULL) = 0 <0.000002>\n"
    )
    m, _ = run(text)
    assert [(k[1], k[2]) for k in kinds(m) if k[1] in ("mq.limit", "obj.remove")] == [
        ("mq.limit", 8),
        ("obj.remove", "msqid:42"),
    ]


#: ``msgctl(IPC_SET)`` with ``msg_qbytes`` 0 (allowed: it is below msgmnb), then two
#: ``msgsnd(IPC_NOWAIT)`` (2 bytes, 0 bytes), both refused: a queue of 0 bytes holds no
#: message at all (msg_fits_inqueue). Prints ``SET``/``S`` results and ``STAT qnum qbytes``.
QBYTES_ZERO = r"""#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>

struct msg { long mtype; char text[8]; };

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (q < 0)
        return 1;
    struct msqid_ds ds;
    msgctl(q, IPC_STAT, &ds);
    ds.msg_qbytes = 0;
    int r = msgctl(q, IPC_SET, &ds);
    printf("SET %d\n", r);
    struct msg m = {.mtype = 1};
    memcpy(m.text, "ab", 2);
    for (int size = 2; size >= 0; size -= 2) {
        r = msgsnd(q, &m, size, IPC_NOWAIT);
        printf("S %d %s\n", size, r == 0 ? "ok" : errno == EAGAIN ? "EAGAIN" : "other");
    }
    msgctl(q, IPC_STAT, &ds);
    printf("STAT %lu %lu\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.msg_qbytes);
    fflush(stdout);
    msgctl(q, IPC_RMID, NULL);
    return r == 0;
}
"""


@needs_tools
def test_a_limit_of_zero_bytes_refuses_every_send(tmp_path: Path) -> None:
    """``msg_qbytes`` 0 is a limit, not "none known": the model took an ``mq.limit`` of 0
    for no limit at all, so each refused send was an ``order.conflict`` ("send of 2 B
    refused (EAGAIN) with 0 of 0 B queued": ipcviz verify, 4 violations) accusing a
    correct program. Now both refusals are legal, and the bar says 0/0 B."""
    binary = compile_c(tmp_path, "qbytes0", QBYTES_ZERO)
    _, events = watch(tmp_path, binary)  # (verify: a legal history)
    report = said(events)
    assert report[0][:2] == ["SET", "0"]
    assert [w[2] for w in report if w[0] == "S"] == ["EAGAIN", "EAGAIN"]
    assert [e["max_bytes"] for e in events if e["kind"] == "mq.limit"] == [0]
    refused = [(e.get("send"), e.get("size")) for e in events if e["kind"] == "mq.again"]
    assert refused == [(1, 2), (1, 0)]
    assert not any(e["kind"] == "order.conflict" for e in events)
    state, queue = _at_removal(events)
    assert queue.max_bytes == 0
    drawn = "".join(seg.text for line in queue_lines(state, queue, 60) for seg in line)
    assert "0 msgs, 0/0 B" in drawn
