"""Record codes: what a binary ring record means, and how it becomes a JSON event.

A record carries a code, an object index, a timestamp, two integers ``a`` and ``b`` and an
optional payload. This table names them, so the worker's hot path packs integers only and
the engine does all the naming and encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Payload = Literal["bytes", "text", "json", None]


@dataclass(frozen=True, slots=True)
class Code:
    kind: str
    a: str | None = None  # event field that receives the record's ``a``
    b: str | None = None  # event field that receives the record's ``b``
    payload: Payload = None


PAD: Final = 0

# Session and narration (1-9)
NARRATE: Final = 1
REPORT: Final = 2
PROC_ERROR: Final = 3
# Anonymous pipes and FIFOs (10-19); FIFO events use the same kinds: the obj type tells them apart
PIPE_WRITE_BEGIN: Final = 10
PIPE_WRITE: Final = 11
PIPE_READ_BEGIN: Final = 12
PIPE_READ: Final = 13
PIPE_CLOSE: Final = 14
PIPE_EPIPE: Final = 15
PIPE_OPEN_BEGIN: Final = 16
PIPE_OPEN: Final = 17
# Shared memory (20-29)
SHM_READ: Final = 20
SHM_WRITE: Final = 21
# Semaphores, POSIX and System V (30-39)
SEM_WAIT_BEGIN: Final = 30
SEM_WAIT: Final = 31
SEM_POST: Final = 32
SEM_TRYWAIT: Final = 33
# Message queues, POSIX and System V (40-49)
MQ_SEND_BEGIN: Final = 40
MQ_SEND: Final = 41
MQ_RECV_BEGIN: Final = 42
MQ_RECV: Final = 43
MQ_NOTIFY: Final = 44
MQ_POLL: Final = 45
# System V message queues: same kinds, but a message has a ``mtype`` (not a priority)
MSGQ_SEND_BEGIN: Final = 46
MSGQ_SEND: Final = 47
MSGQ_RECV_BEGIN: Final = 48
MSGQ_RECV: Final = 49
# Step gate (90-99)
GATE_WAIT: Final = 90
# Objects made inside a worker after start (100-109): payload = the obj.declare fields
OBJ_DECLARE: Final = 100
#: A forked child's first record, in its own ring: payload = the proc.start fields
PROC_START: Final = 101

TABLE: Final[dict[int, Code]] = {
    NARRATE: Code("narrate", "step_index"),
    REPORT: Code("report", payload="json"),
    PROC_ERROR: Code("proc.error", payload="text"),
    PIPE_WRITE_BEGIN: Code("pipe.write.begin", "n"),
    PIPE_WRITE: Code("pipe.write", "n", "size", payload="bytes"),
    PIPE_READ_BEGIN: Code("pipe.read.begin", "max"),
    PIPE_READ: Code("pipe.read", "n", payload="bytes"),
    PIPE_CLOSE: Code("pipe.close", "end"),
    PIPE_EPIPE: Code("pipe.epipe", "n"),
    PIPE_OPEN_BEGIN: Code("pipe.open.begin", "end"),
    PIPE_OPEN: Code("pipe.open", "end", "fd"),
    SHM_READ: Code("shm.read", "offset", "value", payload="bytes"),
    SHM_WRITE: Code("shm.write", "offset", "value", payload="bytes"),
    SEM_WAIT_BEGIN: Code("sem.wait.begin"),
    SEM_WAIT: Code("sem.wait"),
    SEM_POST: Code("sem.post"),
    SEM_TRYWAIT: Code("sem.trywait", "ok"),
    MQ_SEND_BEGIN: Code("mq.send.begin", "prio", "n"),
    MQ_SEND: Code("mq.send", "prio", "size", payload="bytes"),
    MQ_RECV_BEGIN: Code("mq.recv.begin", "want"),
    MQ_RECV: Code("mq.recv", "prio", "size", payload="bytes"),
    MQ_NOTIFY: Code("mq.notify"),
    MQ_POLL: Code("mq.poll", "ready"),
    MSGQ_SEND_BEGIN: Code("mq.send.begin", "mtype", "n"),
    MSGQ_SEND: Code("mq.send", "mtype", "size", payload="bytes"),
    MSGQ_RECV_BEGIN: Code("mq.recv.begin", "want"),
    MSGQ_RECV: Code("mq.recv", "mtype", "size", payload="bytes"),
    GATE_WAIT: Code("gate.wait", "code"),
    OBJ_DECLARE: Code("obj.declare", payload="json"),
    PROC_START: Code("proc.start", payload="json"),
}

#: Completion code → the begin code it ends. When both are drained in the same batch the
#: engine folds the begin into the completion (field ``since``): the op never waited long
#: enough to be seen waiting, and the stream carries one event instead of two.
COMPLETES: Final[dict[int, int]] = {
    PIPE_WRITE: PIPE_WRITE_BEGIN,
    PIPE_READ: PIPE_READ_BEGIN,
    PIPE_OPEN: PIPE_OPEN_BEGIN,
    SEM_WAIT: SEM_WAIT_BEGIN,
    MQ_SEND: MQ_SEND_BEGIN,
    MQ_RECV: MQ_RECV_BEGIN,
    MSGQ_SEND: MSGQ_SEND_BEGIN,
    MSGQ_RECV: MSGQ_RECV_BEGIN,
}

#: Pipe ends, as carried in ``end`` fields.
READ_END: Final = 0
WRITE_END: Final = 1
END_NAMES: Final = ("read", "write")
