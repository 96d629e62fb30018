"""A System V queue or semaphore removed (IPC_RMID) is gone at once: every call that took
effect on it did so before its ``obj.remove``, and a call asleep in it fails with EIDRM
after it. Stamps do not say so: a send the kernel did before the removal can be stamped
after it (strace saw its return later), so the removal is ordered by the object's
operations, not by its stamp. Recorded histories, fed as a traced program's records come."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ipcviz.engine.linearize import STUCK_NS
from ipcviz.tracer import codes as C
from tests.conftest import ipcviz
from tests.truth.test_linearize import MS, Harness, rec
from tests.truth.test_verify import HEADER

QUEUE = {"obj": "q", "type": "sysv_mq", "max_bytes": 16384, "max_message_size": 8192}
SEM = {"obj": "s", "type": "sysv_sem", "value": 0}


def _remove(h: Harness, pid: int, t_ms: float, obj: str) -> None:
    """Process ``pid``'s IPC_RMID of ``obj``, returned at ``t_ms`` (the mapper's event)."""
    t = int(t_ms * MS)
    h.lin.add_event({"t": t, "seq": -1, "pid": pid, "kind": "obj.remove", "obj": obj}, t, pid)


def _order(h: Harness) -> list[tuple[int, str]]:
    return [(e["pid"], e["kind"]) for e in h.out if e["kind"] not in ("proc.start",)]


def _removed_then(h: Harness, obj: str) -> list[dict[str, Any]]:
    """The events on ``obj`` published after its removal."""
    at = next(i for i, e in enumerate(h.out) if e["kind"] == "obj.remove" and e["obj"] == obj)
    return [e for e in h.out[at + 1 :] if e.get("obj") == obj]


def test_a_send_stamped_after_the_removal_goes_before_it() -> None:
    """Before: the removal (returned at 5 ms) went first by its stamp and the send (its
    return seen at 6 ms, though the kernel queued it before the removal) after it: an
    operation on a queue that no longer existed."""
    h = Harness([QUEUE])
    h.start(1, 2)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 1, 1, 2), rec(C.MSGQ_SEND, 6, 1, 2, b"hi")])
    h.lin.add_records(1, [rec(C.MSGQ_LIMIT, 2, 16384)])
    _remove(h, 1, 5, "q")
    h.lin.emit_ready(100 * MS)
    assert _order(h) == [(1, "mq.limit"), (2, "mq.send"), (1, "obj.remove")]
    assert h.lin.conflicts == 0


def test_a_post_stamped_after_the_removal_goes_before_it() -> None:
    """A semop that posts has no begin: its interval starts at its process's previous
    record. Before: the removal went first, the post came after it."""
    h = Harness([SEM])
    h.start(1, 2)
    h.lin.add_records(2, [rec(C.SEM_TRYWAIT, 1, 0), rec(C.SEM_POST, 7)])
    _remove(h, 1, 5, "s")
    h.lin.emit_ready(100 * MS)
    assert _order(h) == [(2, "sem.trywait"), (2, "sem.post"), (1, "obj.remove")]


def test_a_sleeper_woken_by_the_removal_fails_after_it() -> None:
    """The waiter's EIDRM was stamped (4 ms) before the remover's return (5 ms): it still
    comes after the removal, the only place the kernel can have made it."""
    h = Harness([SEM, QUEUE])
    h.start(1, 2, 3)
    h.lin.add_records(2, [rec(C.SEM_WAIT_BEGIN, 1), rec(C.SEM_EIDRM, 4)])
    h.lin.add_records(3, [rec(C.MSGQ_RECV_BEGIN, 1, 0, obj=1), rec(C.MSGQ_EIDRM, 4, obj=1)])
    _remove(h, 1, 5, "s")
    _remove(h, 1, 5.5, "q")
    h.lin.emit_ready(100 * MS)
    assert _order(h) == [
        (1, "obj.remove"),
        (2, "sem.eidrm"),
        (1, "obj.remove"),
        (3, "mq.eidrm"),
    ]
    assert h.lin.conflicts == 0
    assert h.model.objects["s"].waiters == []  # asleep no more
    assert h.model.objects["q"].receivers_waiting == []


def test_a_removal_waits_for_a_call_in_flight_of_a_process_that_used_the_object() -> None:
    """Every record stamped by the cutoff is in, but the sender's next call returned later:
    its record is not. It used the queue, so that call may be on it and have taken effect
    before the removal. Before: the removal was published at the first cutoff past its
    end, and the send came after it."""
    h = Harness([QUEUE])
    h.start(1, 2, 3)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 1, 1, 1), rec(C.MSGQ_SEND, 2, 1, 1, b"a")])
    h.lin.add_records(3, [rec(C.MSGQ_RECV_BEGIN, 2.5, 0), rec(C.MSGQ_RECV, 3, 1, 1, b"a")])
    h.lin.add_event({"t": 4 * MS, "seq": -1, "pid": 3, "kind": "proc.exit", "code": 0}, 4 * MS, 3)
    _remove(h, 1, 5, "q")
    h.lin.emit_ready(6 * MS)
    assert "obj.remove" not in [e["kind"] for e in h.out]
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 4, 1, 1), rec(C.MSGQ_SEND, 8, 1, 1, b"b")])
    h.lin.emit_ready(100 * MS)
    assert [k for _, k in _order(h)][-2:] == ["mq.send", "obj.remove"]
    assert _removed_then(h, "q") == []


def test_a_removal_waits_at_most_stuck_ns_for_a_call_never_recorded() -> None:
    """A process that used the queue and made no call since: the removal waits for it
    ``STUCK_NS``, then goes, said as no conflict (its next call comes after the removal)."""
    h = Harness([QUEUE])
    h.start(1, 2)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 1, 1, 1), rec(C.MSGQ_SEND, 2, 1, 1, b"a")])
    _remove(h, 1, 5, "q")
    h.lin.emit_ready(5 * MS + STUCK_NS - 1)
    assert [e["kind"] for e in h.out][-1] == "mq.send"
    h.lin.emit_ready(5 * MS + STUCK_NS)
    assert [e["kind"] for e in h.out][-1] == "obj.remove"
    assert h.lin.conflicts == 0


def test_a_process_that_exited_or_saw_the_removal_holds_nothing_up() -> None:
    """No wait at all where no call can still come: the sender exited, the receiver's
    call failed with EIDRM (it saw the removal)."""
    h = Harness([QUEUE])
    h.start(1, 2, 3)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 1, 1, 1), rec(C.MSGQ_SEND, 2, 1, 1, b"a")])
    h.lin.add_event({"t": 3 * MS, "seq": -1, "pid": 2, "kind": "proc.exit", "code": 0}, 3 * MS, 2)
    h.lin.add_records(
        3,
        [
            rec(C.MSGQ_RECV_BEGIN, 2.5, 0),
            rec(C.MSGQ_RECV, 3, 1, 1, b"a"),
            rec(C.MSGQ_RECV_BEGIN, 3.5, 0),
            rec(C.MSGQ_EIDRM, 4.5),
        ],
    )
    _remove(h, 1, 5, "q")
    h.lin.emit_ready(6 * MS)
    assert [k for _, k in _order(h)][-2:] == ["obj.remove", "mq.eidrm"]


def test_a_removal_read_before_its_objects_declaration_was_published_still_waits() -> None:
    """A traced program's queue is declared at its first use, an engine event in the pool
    like the removal: both can come in before the declaration is published. Before: the
    removal's object was looked up as it came in, not found, and the removal went by its
    stamp, before the send the kernel did first."""
    h = Harness([])
    h.start(1, 2)
    h.names.append("q")
    declare = {"t": MS, "seq": -1, "pid": 2, "kind": "obj.declare", **QUEUE}
    h.lin.add_event(declare, MS, 2)
    h.lin.add_records(2, [rec(C.MSGQ_SEND_BEGIN, 1, 1, 2), rec(C.MSGQ_SEND, 6, 1, 2, b"hi")])
    _remove(h, 1, 5, "q")
    h.lin.emit_ready(100 * MS)
    assert _order(h) == [(2, "obj.declare"), (2, "mq.send"), (1, "obj.remove")]


def test_a_posix_queue_unlinked_is_still_ordered_by_its_stamp() -> None:
    """mq_unlink leaves the queue to its descriptors: a send after it is legal, and the
    unlink is not held back (only System V removals end an object at once)."""
    h = Harness([{"obj": "p", "type": "posix_mq", "max_messages": 10}])
    h.start(1, 2)
    h.lin.add_records(2, [rec(C.MQ_SEND_BEGIN, 1, 0, 1), rec(C.MQ_SEND, 6, 0, 1, b"x")])
    _remove(h, 1, 5, "p")
    h.lin.emit_ready(100 * MS)
    assert _order(h) == [(1, "obj.remove"), (2, "mq.send")]


# -- ipcviz verify ---------------------------------------------------------------------

#: A hand-written trace: a System V queue and semaphore, a POSIX queue and a System V
#: segment, three processes.
DECLARED = [
    {"t": 0, "pid": 0, "kind": "obj.declare", "obj": "q", "type": "sysv_mq", "max_bytes": 64},
    {"t": 0, "pid": 0, "kind": "obj.declare", "obj": "s", "type": "sysv_sem", "value": 0},
    {"t": 0, "pid": 0, "kind": "obj.declare", "obj": "p", "type": "posix_mq", "max_messages": 4},
    {
        "t": 0,
        "pid": 0,
        "kind": "obj.declare",
        "obj": "m",
        "type": "sysv_shm",
        "size": 8,
        "cells": 8,
    },
    {"t": 0, "pid": 7, "kind": "proc.start", "name": "a"},
    {"t": 0, "pid": 8, "kind": "proc.start", "name": "b"},
    {"t": 0, "pid": 9, "kind": "proc.start", "name": "c"},
]
SEND = {"kind": "mq.send", "mtype": 1, "size": 1, "data": "YQ=="}


def _verify(tmp_path: Path, events: list[dict[str, Any]], *lang: str) -> Any:
    """``ipcviz verify`` (``--lang``) on the declarations and ``events``, numbered."""
    trace = [dict(e) for e in (*DECLARED, *events)]
    for seq, e in enumerate(trace):
        e["seq"] = seq
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (HEADER, *trace)))
    return ipcviz("verify", str(path), *lang)


def test_verify_rejects_an_operation_after_its_objects_removal(tmp_path: Path) -> None:
    """Before: a send, a post and an EIDRM-less wait on a queue and a semaphore already
    removed were a legal history; a sleeper's EIDRM before the removal was too."""
    n = len(DECLARED)
    events = [
        {"t": 1, "pid": 9, "kind": "sem.wait.begin", "obj": "s"},
        {"t": 2, "pid": 9, "kind": "sem.eidrm", "obj": "s"},  # before the removal: illegal
        {"t": 3, "pid": 7, "kind": "obj.remove", "obj": "q"},
        {"t": 4, "pid": 7, "kind": "obj.remove", "obj": "s"},
        {"t": 5, "pid": 8, "obj": "q", **SEND},
        {"t": 6, "pid": 8, "kind": "sem.post", "obj": "s"},
    ]
    result = _verify(tmp_path, events)
    assert result.returncode == 1
    gone = "after the object was removed (IPC_RMID): the kernel fails every call on it"
    assert result.stdout.splitlines()[:3] == [
        f"seq {n + 1}: legal: sem.eidrm s: failed with EIDRM before the object was removed",
        f"seq {n + 4}: legal: mq.send q: {gone} from then on",
        f"seq {n + 5}: legal: sem.post s: {gone} from then on",
    ]
    korean = _verify(tmp_path, events, "--lang", "ko")
    assert korean.stdout.splitlines()[:3] == [
        f"seq {n + 1}: legal: sem.eidrm s: 객체가 삭제되기 전에 EIDRM으로 실패함",
        f"seq {n + 4}: legal: mq.send q: 객체가 삭제된(IPC_RMID) 뒤임: 그때부터 커널은 "
        "그 객체에 대한 모든 호출을 실패시킴",
        f"seq {n + 5}: legal: sem.post s: 객체가 삭제된(IPC_RMID) 뒤임: 그때부터 커널은 "
        "그 객체에 대한 모든 호출을 실패시킴",
    ]


def test_verify_accepts_what_the_kernel_does_at_a_removal(tmp_path: Path) -> None:
    """Sleepers woken with EIDRM after the removal, a begin that changes nothing, a POSIX
    queue's descriptors used after its unlink, a System V segment written through an
    attachment after its IPC_RMID: all legal."""
    events = [
        {"t": 1, "pid": 8, "obj": "q", **SEND},
        {"t": 1, "pid": 8, "kind": "mq.recv.begin", "obj": "q", "want": 0},
        {"t": 2, "pid": 8, "kind": "mq.recv", "obj": "q", **{**SEND, "kind": "mq.recv"}},
        {"t": 3, "pid": 8, "kind": "mq.recv.begin", "obj": "q", "want": 0},
        {"t": 3, "pid": 9, "kind": "sem.wait.begin", "obj": "s"},
        {"t": 4, "pid": 7, "kind": "obj.remove", "obj": "q"},
        {"t": 4, "pid": 7, "kind": "obj.remove", "obj": "s"},
        {"t": 4, "pid": 7, "kind": "obj.remove", "obj": "p"},
        {"t": 4, "pid": 7, "kind": "obj.remove", "obj": "m"},
        {"t": 5, "pid": 8, "kind": "mq.eidrm", "obj": "q", "send": 0},
        {"t": 5, "pid": 9, "kind": "sem.eidrm", "obj": "s"},
        {"t": 6, "pid": 7, "kind": "mq.send", "obj": "p", "prio": 0, "size": 1, "data": "YQ=="},
        {"t": 7, "pid": 7, "kind": "shm.write", "obj": "m", "offset": 0, "data": "YQ=="},
    ]
    result = _verify(tmp_path, events)
    assert result.returncode == 0, result.stdout
    assert "legal history" in result.stdout
