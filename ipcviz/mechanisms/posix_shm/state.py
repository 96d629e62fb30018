"""A shared-memory object's state (POSIX, System V, a mapped file): its cells."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ipcviz import bytefmt
from ipcviz.model.state import Obj


@dataclass
class ShmObj(Obj):
    size: int = 0
    cells: int = 0
    cell_size: int = 8
    data: bytearray = field(default_factory=bytearray)
    last_writer: list[int] = field(default_factory=list)  # pid per cell, 0 = nobody yet
    changed_seq: list[int] = field(default_factory=list)  # seq of the last write per cell
    reads: int = 0
    writes: int = 0

    def cell(self, i: int) -> int:
        """Cell ``i`` as the model holds it: the value of the last ``shm.write`` to it, in
        the order of the trace (a signed little-endian integer of ``cell_size`` bytes)."""
        raw = self.data[i * self.cell_size : (i + 1) * self.cell_size]
        return int.from_bytes(raw, "little", signed=True)

    def named_cells(
        self, longest: int = 40, only: int | None = None
    ) -> Iterator[tuple[int, str, int, int]]:
        """(cell, name, its index in the name's run, the run's length) for each cell the
        scenario named (``cells={"slots": 5, "in": 1}``), the name made inert and at most
        ``longest`` cells wide; a malformed entry (a trace is untrusted) is skipped.
        ``only``: that cell alone (a sentence names one cell, on every read and write)."""
        names = self.info.get("names")
        if not isinstance(names, list):
            return
        for entry in names:
            if not (isinstance(entry, list) and len(entry) == 3):
                continue
            name, start, count = entry
            if not (isinstance(name, str) and isinstance(start, int) and isinstance(count, int)):
                continue
            # only the part of the run that lies within the object: a hostile count
            # (10**12) or start (-10**12) costs no more than the object's own cells
            first, end = max(0, -start), min(count, self.cells - start)
            if only is not None:
                first, end = max(first, only - start), min(end, only - start + 1)
            if first >= end:
                continue
            name = bytefmt.safe_text(name, longest)
            for j in range(first, end):
                yield start + j, name, j, count

    def cell_name(self, i: int) -> str | None:
        """Cell ``i`` by its whole name (``in``, ``slots[2]``), for a sentence; None when
        the scenario did not name it. Of two names for one cell (a trace's), the later, as
        the diagram labels it (``diagram.cell_names``): the log and the picture agree."""
        said = None
        for _cell, name, j, count in self.named_cells(only=i):
            said = name if count == 1 else f"{name}[{j}]"
        return said

    def kernel_cell(self, i: int) -> int | None:
        """Cell ``i`` as the last kernel probe read it (``probe.shm``), or None when no
        probe read that far; compare with ``kernel_is_stale()`` before trusting it."""
        import base64
        import binascii

        try:
            raw = base64.b64decode(self.kernel.get("data") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            return None
        part = raw[i * self.cell_size : (i + 1) * self.cell_size]
        if i < 0 or len(part) < self.cell_size:
            return None
        return int.from_bytes(part, "little", signed=True)

    def unread(self) -> bool:
        """A segment only a kernel probe shows (``probed_data``), not read yet: its cells
        are unknown, not 0 (a fast program may even remove it before any reading)."""
        probed = self.info.get("probe_cells") or self.info.get("probed")
        return bool(probed) and not self.kernel.get("data")

    def probed_data(self) -> bytearray | None:
        """For a segment whose stores no event shows (a program watched through strace:
        ``probe_cells`` for System V, ``probed`` for POSIX), its cells as the last kernel
        probe read them (zeros beyond what it read, or before any reading); None for one
        whose stores are ``shm.write`` events (the model's own copy, ``data``, is then
        what to draw)."""
        import base64
        import binascii

        if not (self.info.get("probe_cells") or self.info.get("probed")):
            return None
        cells = bytearray(self.cells * self.cell_size)
        try:
            raw = base64.b64decode(self.kernel.get("data") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raw = b""
        raw = raw[: len(cells)]
        cells[: len(raw)] = raw
        return cells
