"""POSIX message queue (T20-T22): whole messages with priorities, highest priority first.

``send`` blocks while the queue is full, ``receive`` while it is empty; ``poll`` waits on the
queue descriptor with poll(2) (on Linux an mqd_t is a file descriptor), so a process can
check for a message without blocking in mq_receive.
"""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

import posix_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import KernelObject, Session
from ipcviz.mechanisms.posix_mq import codes as C
from ipcviz.session.registry import posix_name
from ipcviz.tracer.current import tracer

MSG_MAX = Path("/proc/sys/fs/mqueue/msg_max")
MSGSIZE_MAX = Path("/proc/sys/fs/mqueue/msgsize_max")


def _limit(path: Path, default: int) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return default


class PosixQueue(KernelObject):
    """A POSIX queue of at most ``max_messages`` messages of at most ``max_message_size`` bytes."""

    type = "posix_mq"

    def __init__(self, name: str, max_messages: int = 10, max_message_size: int = 1024) -> None:
        super().__init__(name)
        if max_messages < 1 or max_message_size < 1:
            raise ValueError("a POSIX queue needs max_messages >= 1 and max_message_size >= 1")
        self.max_messages = max_messages
        self.max_message_size = max_message_size
        self.mq: posix_ipc.MessageQueue | None = None

    def check_limits(self) -> None:
        """Unprivileged limits (root without CAP_SYS_RESOURCE too): say which file to change."""
        for value, path, what, default in (
            (self.max_messages, MSG_MAX, "messages", 10),
            (self.max_message_size, MSGSIZE_MAX, "bytes per message", 8192),
        ):
            limit = _limit(path, default)
            if value > limit:
                raise KernelLimitError(
                    f"POSIX queue {self.name}: {value} {what} is more than the kernel allows "
                    f"({path} = {limit}); use at most {limit} or raise {path}"
                )

    def create(self, session: Session) -> None:
        self.check_limits()
        self.kernel_name = posix_name(session.sid, self.name)
        session.register({"type": self.type, "name": self.kernel_name})
        try:
            self.mq = posix_ipc.MessageQueue(
                self.kernel_name,
                posix_ipc.O_CREX,
                mode=0o600,
                max_messages=self.max_messages,
                max_message_size=self.max_message_size,
            )
        except (ValueError, OSError, posix_ipc.Error) as exc:
            raise KernelLimitError(
                f"cannot create POSIX queue {self.name} ({self.max_messages} messages of "
                f"{self.max_message_size} bytes): {exc} (see {MSG_MAX}, {MSGSIZE_MAX} and "
                "/proc/sys/fs/mqueue/queues_max)"
            ) from None

    def declare(self) -> dict[str, Any]:
        return {
            **super().declare(),
            "max_messages": self.max_messages,
            "max_message_size": self.max_message_size,
        }

    def destroy(self) -> None:
        if self.mq is not None:
            try:
                self.mq.unlink()
            except posix_ipc.ExistentialError:
                pass
            try:
                self.mq.close()
            except posix_ipc.Error:
                pass
            self.mq = None

    def current_messages(self) -> int:
        """mq_getattr's mq_curmsgs (the engine's probe uses it)."""
        return self.mq.current_messages  # type: ignore[union-attr]

    # -- used by workers ---------------------------------------------------------------

    def send(self, data: bytes, priority: int = 0) -> None:
        """mq_send: blocks while the queue is full (T21)."""
        t = tracer
        t.gate(C.MQ_SEND_BEGIN, self.index)
        t.emit(C.MQ_SEND_BEGIN, self.index, priority, len(data))
        self.mq.send(data, None, priority)  # type: ignore[union-attr]
        # Stamped when the call returns, not before: a send that waited on a full queue
        # enqueued only at the end. (A receiver may be recorded a moment before it; the
        # model holds such a message as "early".)
        t.emit(C.MQ_SEND, self.index, priority, len(data), data)

    def try_send(self, data: bytes, priority: int = 0) -> bool:
        """mq_send with O_NONBLOCK semantics: False instead of blocking when full."""
        tracer.gate(C.MQ_SEND_BEGIN, self.index)
        try:
            self.mq.send(data, 0, priority)  # type: ignore[union-attr]
        except posix_ipc.BusyError:
            tracer.emit(C.MQ_AGAIN, self.index, 1)
            return False
        tracer.emit(C.MQ_SEND, self.index, priority, len(data), data)
        return True

    def receive(self) -> tuple[bytes, int]:
        """mq_receive: the oldest message of the highest priority; blocks while empty (T22)."""
        t = tracer
        t.gate(C.MQ_RECV_BEGIN, self.index)
        t.emit(C.MQ_RECV_BEGIN, self.index)
        data, prio = self.mq.receive(None)  # type: ignore[union-attr]
        t.emit(C.MQ_RECV, self.index, prio, len(data), data)
        return data, prio

    def try_receive(self) -> tuple[bytes, int] | None:
        """mq_receive that never blocks: None when the queue is empty."""
        tracer.gate(C.MQ_RECV_BEGIN, self.index)
        try:
            data, prio = self.mq.receive(0)  # type: ignore[union-attr]
        except posix_ipc.BusyError:
            tracer.emit(C.MQ_AGAIN, self.index, 0)
            return None
        tracer.emit(C.MQ_RECV, self.index, prio, len(data), data)
        return data, prio

    def poll(self, timeout: float = 0.0) -> bool:
        """poll(2) on the queue descriptor: is a message waiting? Never takes it."""
        tracer.gate(C.MQ_POLL, self.index)
        poller = select.poll()
        poller.register(self.mq.mqd, select.POLLIN)  # type: ignore[union-attr]
        ready = bool(poller.poll(max(0, int(timeout * 1000))))
        tracer.emit(C.MQ_POLL, self.index, int(ready))
        return ready
