"""The cells of a traced program's System V segments: what no system call shows.

strace shows a program making, attaching, detaching and removing a segment, never a store
into it (a store is a plain memory write). So the engine looks itself, as it does for a
scenario's segment (``mechanisms/sysv_shm``): it attaches each segment the program's calls
declare, read-only (``shmat(…, SHM_RDONLY)``: it can never change a cell), and reads it
as ``probe.shm`` events, each with its time, so the screen shows the cells with the age of
the reading. Readings are taken when the segment is declared, every probe interval, when
the program removes it (``shmctl(IPC_RMID)``) and at the end.

The engine's attachment holds the segment's memory, so a segment the program removes
while the engine still has it attached can be read one last time: its final cells. The
engine then detaches at once: the segment goes as the program meant (nothing is left
behind that the program did not leave). ``nattch`` in a reading counts the program's
attachments: the kernel's count less the engine's own.
"""

from __future__ import annotations

from typing import Any

import sysv_ipc

from ipcviz import probe
from ipcviz.engine.probing import sweep_interval
from ipcviz.events.codec import b64
from ipcviz.mechanisms import sysv_shm

#: Bytes of a segment one reading carries at most (the prober's cap for payloads).
DATA_CAP = 4096


def segment_size(ident: int) -> int | None:
    """The kernel's size of segment ``ident`` (/proc/sysvipc/shm), or None if it is gone."""
    st = probe.sysv_shm_stat(ident)
    return st.size if st is not None else None


class SegmentProbe:
    """Installed by ``ProgramEngine``: reads the program's segments through the engine's
    own read-only attachments, and lets each go when the segment goes."""

    def __init__(self, engine: Any, interval: float | None = None) -> None:
        self.engine = engine
        self.interval = sweep_interval() if interval is None else interval
        #: object name → (shmid, the engine's read-only attachment)
        self.attached: dict[str, tuple[int, sysv_ipc.SharedMemory]] = {}
        self.readings = 0

    def install(self) -> SegmentProbe:
        source = self.engine.source
        if source is not None:
            source.mapper.shm_size = segment_size
        self.engine.on_events.append(self._on_events)
        if self.interval > 0:
            self.engine.add_periodic(self.interval, self.sweep)
        self.engine.on_end.append(self.finish)
        return self

    def _on_events(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            kind = e["kind"]
            if kind == "obj.declare" and e.get("type") == sysv_shm.MECHANISM.type:
                if e.get("probe_cells") and isinstance(e.get("id"), int):
                    self._attach(e["obj"], e["id"])
            elif kind == "obj.remove" and e.get("obj") in self.attached:
                self.read(e["obj"])  # the cells as the program left them
                self._detach(e["obj"])

    def _attach(self, name: str, ident: int) -> None:
        self._detach(name)  # made anew under the same name: the old one is gone
        try:
            shm = sysv_ipc.attach(ident, None, sysv_ipc.SHM_RDONLY)
        except (sysv_ipc.Error, OSError, ValueError):
            return  # already gone, or not ours to read: no cells to show
        self.attached[name] = (ident, shm)
        self.read(name)

    def _detach(self, name: str) -> None:
        held = self.attached.pop(name, None)
        if held is None:
            return
        try:
            held[1].detach()
        except sysv_ipc.Error:
            pass

    def read(self, name: str) -> None:
        """One reading of segment ``name``: its first bytes, its size, the program's
        attachments and where each live process has it attached."""
        ident, shm = self.attached[name]
        st = probe.sysv_shm_stat(ident)
        if st is None:
            return
        try:
            data = shm.read(min(DATA_CAP, st.size), 0)
        except (sysv_ipc.Error, OSError, ValueError):
            return
        addresses = {}
        for pid, proc in self.engine.model.procs.items():
            if proc.alive:
                at = probe.sysv_shm_addresses(pid) or {}
                if ident in at:
                    addresses[str(pid)] = at[ident]
        self.readings += 1
        self.engine.emit(
            sysv_shm.MECHANISM.probe_kind,
            obj=name,
            data=b64(data),
            size=st.size,
            addresses=addresses,
            nattch=max(0, st.nattch - 1),
            cpid=st.cpid,
            **st.last_user(),  # ipcviz itself until one of the program's processes acts
        )

    def sweep(self) -> None:
        for name in list(self.attached):
            self.read(name)

    def finish(self) -> None:
        """The run ends: a last reading of each segment still attached, then every
        attachment of the engine goes (before what the program left is listed)."""
        for name in list(self.attached):
            self.read(name)
            self._detach(name)
