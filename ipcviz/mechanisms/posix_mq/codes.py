"""Record codes of POSIX message queues (40-45, and 50): a message has a priority. The
registry puts them in the one table (``registry.codes()``)."""

from __future__ import annotations

from typing import Final

from ipcviz.tracer.codes import Code

MQ_SEND_BEGIN: Final = 40
MQ_SEND: Final = 41
MQ_RECV_BEGIN: Final = 42
MQ_RECV: Final = 43
MQ_NOTIFY: Final = 44
MQ_POLL: Final = 45
#: try_send / try_receive refused (EAGAIN; System V's msgrcv IPC_NOWAIT: ENOMSG): ``a`` 1
#: for a send (the queue was full), 0 for a receive (nothing it could take: ``b`` the type
#: a System V receive asked for)
MQ_AGAIN: Final = 50

CODES: Final[dict[int, Code]] = {
    MQ_SEND_BEGIN: Code("mq.send.begin", "prio", "n"),
    MQ_SEND: Code("mq.send", "prio", "size", payload="bytes"),
    MQ_RECV_BEGIN: Code("mq.recv.begin", "want"),
    MQ_RECV: Code("mq.recv", "prio", "size", payload="bytes"),
    MQ_NOTIFY: Code("mq.notify"),
    MQ_POLL: Code("mq.poll", "ready"),
    MQ_AGAIN: Code("mq.again", "send", "want"),
}

COMPLETES: Final[dict[int, int]] = {MQ_SEND: MQ_SEND_BEGIN, MQ_RECV: MQ_RECV_BEGIN}
