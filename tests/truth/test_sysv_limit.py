"""A System V queue's limit in bytes follows ``msgctl(IPC_SET)`` (``mq.limit``) in the
engine's ordering, as in the model: records fed as strace's mapper makes them. A raise
past msgmnb needs CAP_SYS_RESOURCE, which the machine running the real-program tests
(tests/anyprog/test_sysv_queue.py) may not grant: here it is a recorded history."""

from __future__ import annotations

from ipcviz.tracer import codes as C
from tests.truth.test_linearize import MS, Harness, rec

#: msgmnb, the limit a queue is made with (and declared with under ``ipcviz run``)
MSGMNB = 16384


def _queue() -> Harness:
    h = Harness([{"obj": "q", "type": "sysv_mq", "max_bytes": MSGMNB}])
    h.start(1, 2)
    return h


def _send(t_ms: float, data: bytes) -> list[tuple]:
    return [
        rec(C.MSGQ_SEND_BEGIN, t_ms - 0.5, 1, len(data)),
        rec(C.MSGQ_SEND, t_ms, 1, len(data), data),
    ]


def test_sends_past_msgmnb_after_a_concurrent_raise_are_ordered_after_it() -> None:
    """Process 2 raised the limit to 32768 B (a call from 0 to 10 ms) while process 1 sent
    three 8000 B messages (1 to 4 ms): only an order with the raise before the third send
    is legal (24000 B held). Before, ``IPC_SET`` was not recorded: the third send had no
    legal place under 16384 B (``order.conflict`` on a correct program)."""
    h = _queue()
    h.lin.add_records(2, [rec(C.MSGQ_LIMIT, 10, 2 * MSGMNB)])
    for i, t in enumerate((2, 3, 4)):
        h.lin.add_records(1, _send(t, bytes([65 + i]) * 8000))
    h.lin.flush()
    assert h.lin.conflicts == 0
    kinds = [e["kind"] for e in h.out if e["kind"] in ("mq.send", "mq.limit")]
    assert kinds.index("mq.limit") < 3 and kinds.count("mq.send") == 3
    queue = h.model.objects["q"]
    assert (queue.max_bytes, queue.nbytes, len(queue.messages)) == (2 * MSGMNB, 24000, 3)


def test_a_refused_send_is_legal_only_where_it_did_not_fit() -> None:
    """Lowered to 8 B, two 4 B messages fill the queue: a third refused (EAGAIN, its size
    said) is legal. Refused with room for it, it is no order the kernel could make."""
    h = _queue()
    h.lin.add_records(1, [rec(C.MSGQ_LIMIT, 1, 8), *_send(2, b"abcd"), *_send(3, b"efgh")])
    h.lin.add_records(1, [rec(C.MSGQ_AGAIN_SEND, 4, 1, 4)])
    h.lin.flush()
    assert h.lin.conflicts == 0
    assert [e["kind"] for e in h.out if e["kind"].startswith("mq.")][-1] == "mq.again"

    h = _queue()
    h.lin.add_records(1, [rec(C.MSGQ_LIMIT, 1, 8), *_send(2, b"abcd")])
    h.lin.add_records(1, [rec(C.MSGQ_AGAIN_SEND, 4, 1, 4)])  # 4 of 8 B held: it fitted
    h.lin.emit_ready(100 * MS)
    h.out.clear()
    h.lin._publish_record = lambda *a: h.out.append({"kind": "mq.again"})  # type: ignore
    h.lin.flush()
    assert [e["kind"] for e in h.out] == ["order.conflict", "mq.again"]
    assert h.lin.conflicts == 1
