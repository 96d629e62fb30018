"""Record codes of System V message queues (46-49, 51, 56-61): the same kinds as POSIX
queues, but a message has a ``mtype`` (not a priority). The registry puts them in the one
table."""

from __future__ import annotations

from typing import Final

from ipcviz.tracer.codes import Code

MSGQ_SEND_BEGIN: Final = 46
MSGQ_SEND: Final = 47
MSGQ_RECV_BEGIN: Final = 48
MSGQ_RECV: Final = 49
#: a receive with ``MSG_NOERROR`` that filled its buffer: the message may have been longer
#: (the kernel cut it to the buffer, ``size``); a traced program's (strace) only
MSGQ_RECV_CUT: Final = 51
#: ``msgctl(IPC_SET)`` gave the queue a new limit in bytes (``msg_qbytes``): the sends after
#: it are held to that one (a traced program's only)
MSGQ_LIMIT: Final = 56
#: ``msgrcv`` with ``MSG_COPY``: a copy of the message at index ``want`` (msgtyp), which
#: stays in the queue (kernel CONFIG_CHECKPOINT_RESTORE); a traced program's only
MSGQ_COPY: Final = 57
#: ``msgrcv`` with ``MSG_EXCEPT`` and msgtyp n > 0: the oldest message whose type is not n
#: (with msgtyp <= 0 the kernel ignores the flag: a plain receive)
MSGQ_RECV_EXCEPT: Final = 58
#: ``msgsnd(IPC_NOWAIT)`` refused (EAGAIN): ``mq.again`` with the message's ``size``, so
#: the rule can check it did not fit (a traced program's; a worker's says no size)
MSGQ_AGAIN_SEND: Final = 59
#: ``MSG_EXCEPT`` and ``MSG_NOERROR``, a full buffer: both (``except``, ``cut``)
MSGQ_RECV_EXCEPT_CUT: Final = 60
#: ``msgsnd``/``msgrcv`` failed with EIDRM: the queue was removed (IPC_RMID) while the
#: call was in it (``a`` 1 for a send); it ends the call's begin, after the removal
MSGQ_EIDRM: Final = 61

CODES: Final[dict[int, Code]] = {
    MSGQ_SEND_BEGIN: Code("mq.send.begin", "mtype", "n"),
    MSGQ_SEND: Code("mq.send", "mtype", "size", payload="bytes"),
    #: ``later``: 1 when the type asked for is not known yet (strace prints msgrcv's type
    #: only at its return: ``want`` is then 0, not "any type")
    MSGQ_RECV_BEGIN: Code("mq.recv.begin", "want", "later"),
    MSGQ_RECV: Code("mq.recv", "mtype", "size", payload="bytes"),
    MSGQ_RECV_CUT: Code("mq.recv", "mtype", "size", payload="bytes", fixed=(("cut", 1),)),
    MSGQ_LIMIT: Code("mq.limit", "max_bytes"),
    MSGQ_COPY: Code("mq.copy", "mtype", "size", payload="bytes"),
    MSGQ_RECV_EXCEPT: Code("mq.recv", "mtype", "size", payload="bytes", fixed=(("except", 1),)),
    MSGQ_AGAIN_SEND: Code("mq.again", "send", "size"),
    MSGQ_RECV_EXCEPT_CUT: Code(
        "mq.recv", "mtype", "size", payload="bytes", fixed=(("except", 1), ("cut", 1))
    ),
    MSGQ_EIDRM: Code("mq.eidrm", "send"),
}

COMPLETES: Final[dict[int, int]] = {
    MSGQ_SEND: MSGQ_SEND_BEGIN,
    MSGQ_RECV: MSGQ_RECV_BEGIN,
    MSGQ_RECV_CUT: MSGQ_RECV_BEGIN,
    MSGQ_RECV_EXCEPT: MSGQ_RECV_BEGIN,
    MSGQ_RECV_EXCEPT_CUT: MSGQ_RECV_BEGIN,
}
#: (``MSGQ_COPY`` ends a receive's begin, ``MSGQ_AGAIN_SEND`` a send's, as ``MQ_AGAIN``
#: does, and ``MSGQ_EIDRM`` either: kinds of their own, so the linearizer pairs them, not
#: this table)
