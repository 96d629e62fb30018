"""The cells of a traced program's System V segments: what no system call shows.

strace shows a program making, attaching, detaching and removing a segment, never a store
into it (a store is a plain memory write). So the engine looks itself, as it does for a
scenario's segment (``mechanisms/sysv_shm``): it attaches each segment the program's calls
declare, read-only (``shmat(…, SHM_RDONLY)``: it can never change a cell), and reads it
as ``probe.shm`` events, each with its time, so the screen shows the cells with the age of
the reading. Readings are taken when the segment is declared, every probe interval, when
the program removes it (``shmctl(IPC_RMID)``) and at the end.

A program may make thousands of segments. The kernel's table and each process's
attachments are read once per moment (a batch of events, a sweep), not once per segment;
and the engine holds at most ``HELD`` segments attached: a segment past those is read
once, when it is declared, and its reading's age says how old it is from then on.

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
#: Segments the engine holds attached (read every sweep, read last at their removal) at
#: most: each is a mapping in the engine and up to 4 KiB in the trace per sweep.
HELD = 64


class Moment:
    """The kernel's table of segments and each process's attachments, read at most once
    for all the readings of one moment. Read per segment, a sweep over n segments parsed
    n² rows: a program making a segment a millisecond had the engine minutes behind."""

    def __init__(self, probe_: SegmentProbe) -> None:
        self._probe = probe_
        self._table: dict[int, probe.SysvShmStat] | None = None
        #: the segments the engine had attached when the table was read: its own
        #: attachment is in their count, not in the count of one it attached since
        self._held: set[int] = set()
        self._at: dict[int, dict[int, int]] = {}

    def stat(self, ident: int) -> tuple[probe.SysvShmStat, int] | None:
        """Segment ``ident``'s row, and how many of its attachments are the engine's."""
        if self._table is None:
            self._held = {held for held, _ in self._probe.attached.values()}
            self._table = probe.sysv_shm_stats()
        st = self._table.get(ident)
        return None if st is None else (st, int(ident in self._held))

    def addresses(self, pid: int) -> dict[int, int]:
        found = self._at.get(pid)
        if found is None:
            found = self._at[pid] = probe.sysv_shm_addresses(pid) or {}
        return found


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
        # a hurried end (a second Ctrl-C) reads nothing more, but lets every segment go
        # before the program's leftovers are listed and removed
        self.engine.on_end.append(self.let_go)
        self.engine.cleanup_at_end.append(self.let_go)
        return self

    def _on_events(self, events: list[dict[str, Any]]) -> None:
        moment = Moment(self)
        for e in events:
            kind = e["kind"]
            if kind == "obj.declare" and e.get("type") == sysv_shm.MECHANISM.type:
                if e.get("probe_cells") and isinstance(e.get("id"), int):
                    self._attach(e["obj"], e["id"], moment)
            elif kind == "obj.remove" and e.get("obj") in self.attached:
                self.read(e["obj"], moment)  # the cells as the program left them
                self._detach(e["obj"])

    def _attach(self, name: str, ident: int, moment: Moment) -> None:
        self._detach(name)  # made anew under the same name: the old one is gone
        try:
            shm = sysv_ipc.attach(ident, None, sysv_ipc.SHM_RDONLY)
        except (sysv_ipc.Error, OSError, ValueError):
            return  # already gone, or not ours to read: no cells to show
        self.attached[name] = (ident, shm)
        self.read(name, moment)
        if len(self.attached) > HELD:
            self._detach(name)  # read once: its age says how old that reading is

    def _detach(self, name: str) -> None:
        held = self.attached.pop(name, None)
        if held is None:
            return
        try:
            held[1].detach()
        except sysv_ipc.Error:
            pass

    def read(self, name: str, moment: Moment | None = None) -> None:
        """One reading of segment ``name``: its first bytes, its size, the program's
        attachments and where each live process has it attached."""
        moment = Moment(self) if moment is None else moment
        ident, shm = self.attached[name]
        found = moment.stat(ident)
        if found is None:
            return
        st, own = found
        try:
            data = shm.read(min(DATA_CAP, st.size), 0)
        except (sysv_ipc.Error, OSError, ValueError):
            return
        addresses = {}
        for pid, proc in self.engine.model.procs.items():
            if proc.alive:
                at = moment.addresses(pid)
                if ident in at:
                    addresses[str(pid)] = at[ident]
        self.readings += 1
        self.engine.emit(
            sysv_shm.MECHANISM.probe_kind,
            obj=name,
            data=b64(data),
            size=st.size,
            addresses=addresses,
            nattch=max(0, st.nattch - own),
            cpid=st.cpid,
            **st.last_user(),  # ipcviz itself until one of the program's processes acts
        )

    def sweep(self) -> None:
        moment = Moment(self)
        for name in list(self.attached):
            self.read(name, moment)

    def finish(self) -> None:
        """The run ends: a last reading of each segment still attached, then every
        attachment of the engine goes (before what the program left is listed)."""
        moment = Moment(self)
        for name in list(self.attached):
            self.read(name, moment)
            self._detach(name)

    def let_go(self) -> None:
        """Every attachment of the engine goes, unread."""
        for name in list(self.attached):
            self._detach(name)
