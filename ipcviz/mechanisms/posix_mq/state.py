"""A message queue's state (POSIX or System V): messages in delivery order."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ipcviz.model.state import Obj


@dataclass
class QueueObj(Obj):
    """A message queue (POSIX or System V): messages keep their boundaries (T19)."""

    #: [prio or type, bytes, pid], in delivery order; [prio or type, bytes, pid, known]
    #: where only its first ``known`` bytes were recorded (past strace's cut: the rest are
    #: zeros the model holds for bytes it does not know, drawn as ``bytefmt.UNRECORDED``)
    messages: deque[list[Any]] = field(default_factory=deque)
    max_messages: int = 0
    #: System V: the bytes it may hold (``msg_qbytes``), None while not known; 0 is a
    #: limit (``msgctl(IPC_SET)`` may set it: every send is then refused or waits)
    max_bytes: int | None = None
    nbytes: int = 0
    deficit: int = 0
    senders_waiting: list[int] = field(default_factory=list)
    receivers_waiting: list[int] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    last_send_pid: int = 0
    last_recv_pid: int = 0
    #: [prio or type, bytes] received before their send record arrived (records in flight)
    early: list[list[Any]] = field(default_factory=list)
    #: messages received that no traced send put there: from before the attach or from a
    #: process ipcviz does not watch (an ``outside`` queue only)
    from_outside: int = 0
    #: POSIX: messages carry a priority and the highest is delivered first; System V: a
    #: type, and a receive takes them in arrival order (set by the mechanism's declare)
    by_priority: bool = False

    def unrecorded(self) -> int:
        """How many bytes of its messages the trace did not record (``messages``)."""
        return sum(len(m[1]) - m[3] for m in self.messages if len(m) > 3)

    @property
    def maybe_filled(self) -> bool:
        """A POSIX queue opened with O_CREAT alone where what existed before the run is not
        known (``discovered``, not ``outside``: no /dev/mqueue to list): made by that call,
        or there already with messages no event shows. Its views count the traced messages,
        never claim it empty."""
        return self.by_priority and not self.outside and bool(self.info.get("discovered"))
