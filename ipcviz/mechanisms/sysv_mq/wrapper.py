"""System V message queue (T23-T25): typed messages; receive by exact type, "type <= n" or any.

The kernel keeps a ``msqid_ds`` per queue (qnum, cbytes, qbytes, lspid, lrpid, stime, rtime):
the engine's probe reads it, and copies queued messages without taking them (MSG_COPY).
"""

from __future__ import annotations

from typing import Any

import sysv_ipc

from ipcviz.errors import KernelLimitError
from ipcviz.ipc.base import KernelObject, Session, env_name
from ipcviz.ipc.sysv import sysv_key
from ipcviz.mechanisms.posix_mq import codes as POSIX
from ipcviz.mechanisms.sysv_mq import codes as C
from ipcviz.tracer.current import tracer


class SysvQueue(KernelObject):
    """``send(data, mtype)``; ``receive(mtype)``: 0 = any, n > 0 = exactly n, -n = lowest <= n."""

    type = "sysv_mq"

    def __init__(self, name: str, max_message_size: int = 8192) -> None:
        super().__init__(name)
        if max_message_size < 1:
            raise ValueError("max_message_size must be >= 1")
        self.max_message_size = max_message_size
        self.key = 0
        self.id = -1
        self.qbytes = 0
        self.mq: sysv_ipc.MessageQueue | None = None

    def create(self, session: Session) -> None:
        self.key = sysv_key(session.sid, self.name)
        entry = session.register({"type": self.type, "key": self.key})
        try:
            self.mq = sysv_ipc.MessageQueue(
                self.key, sysv_ipc.IPC_CREX, mode=0o600, max_message_size=self.max_message_size
            )
        except (sysv_ipc.Error, ValueError, OSError) as exc:
            raise KernelLimitError(
                f"cannot create System V queue {self.name}: {exc} (see /proc/sys/kernel/msgmni)"
            ) from None
        self.id = self.mq.id
        self.qbytes = self.mq.max_size
        self.kernel_name = f"msqid {self.id} (key {self.key:#x})"
        session.update(entry, {**entry, "id": self.id})

    def address(self) -> str:
        return str(self.id)  # what msgget/semget/shmget returned: the calls take the id

    def environment(self) -> dict[str, str]:
        """The id, and the key (``$IPCVIZ_<NAME>_KEY``) for a program that asks the
        kernel for the id itself."""
        return {**super().environment(), env_name(self.name) + "_KEY": str(self.key)}

    def declare(self) -> dict[str, Any]:
        return {
            **super().declare(),
            "key": self.key,
            "id": self.id,
            "max_bytes": self.qbytes,
            "max_message_size": self.max_message_size,
        }

    def destroy(self) -> None:
        if self.mq is not None:
            try:
                self.mq.remove()
            except sysv_ipc.ExistentialError:
                pass
            self.mq = None

    # -- used by workers ---------------------------------------------------------------

    def send(self, data: bytes, mtype: int = 1) -> None:
        """msgsnd: blocks while the queue holds qbytes bytes already."""
        if mtype < 1:
            raise ValueError("a System V message type must be >= 1")
        t = tracer
        t.gate(C.MSGQ_SEND_BEGIN, self.index)
        t.emit(C.MSGQ_SEND_BEGIN, self.index, mtype, len(data))
        self.mq.send(data, True, mtype)  # type: ignore[union-attr]
        # Stamped when the call returns: a send that waited on a full queue enqueued only
        # at the end (see PosixQueue.send).
        t.emit(C.MSGQ_SEND, self.index, mtype, len(data), data)

    def receive(self, mtype: int = 0) -> tuple[bytes, int]:
        """msgrcv: 0 = the oldest message, n > 0 = the oldest of type n, -n = lowest type <= n."""
        t = tracer
        t.gate(C.MSGQ_RECV_BEGIN, self.index)
        t.emit(C.MSGQ_RECV_BEGIN, self.index, mtype)
        data, got = self.mq.receive(True, mtype)  # type: ignore[union-attr]
        t.emit(C.MSGQ_RECV, self.index, got, len(data), data)
        return data, got

    def try_receive(self, mtype: int = 0) -> tuple[bytes, int] | None:
        """msgrcv with IPC_NOWAIT: None when no message matches."""
        t = tracer
        t.gate(C.MSGQ_RECV_BEGIN, self.index)
        t.emit(C.MSGQ_RECV_BEGIN, self.index, mtype)  # the type asked for (never waits)
        try:
            data, got = self.mq.receive(False, mtype)  # type: ignore[union-attr]
        except sysv_ipc.BusyError:
            tracer.emit(POSIX.MQ_AGAIN, self.index, 0, mtype)
            return None
        tracer.emit(C.MSGQ_RECV, self.index, got, len(data), data)
        return data, got

    def stat(self) -> dict[str, int]:
        """The msqid_ds fields of the lecture notes, as sysv_ipc reports them."""
        mq = self.mq
        return {
            "current_messages": mq.current_messages,  # type: ignore[union-attr]
            "max_size": mq.max_size,  # type: ignore[union-attr]
            "last_send_pid": mq.last_send_pid,  # type: ignore[union-attr]
            "last_receive_pid": mq.last_receive_pid,  # type: ignore[union-attr]
            "last_send_time": int(mq.last_send_time),  # type: ignore[union-attr]
            "last_receive_time": int(mq.last_receive_time),  # type: ignore[union-attr]
        }
