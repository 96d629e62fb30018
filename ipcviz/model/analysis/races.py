"""Lost updates in shared memory, found in the event stream (T31).

A read-modify-write by process P is its ``shm.read`` of a cell followed by its ``shm.write``
of the same cell. Each write is *based on* the write whose value P read (or the initial
value). The cell's current value descends from a chain of writes, each based on the one
before. When P's write is based on an older write than the current one, every write on the
current chain after P's base is overwritten: those updates are lost (each reported once).
``missing`` = writes so far minus the length of the current chain: the updates the value
does not contain now; for a counter incremented by read-add-write, ``increments - value``.
(A lost write can come back: if another process had read its value before it was
overwritten and then writes on top of it. So the number of reports can exceed ``missing``.)

Each lost update is reported as the two sequences that overlapped: the one that was lost
(who read what, wrote what) and the one that overwrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ipcviz.i18n import Lazy, lazy

Event = dict[str, Any]
LOST_UPDATE = "race.lost_update"
#: Writes kept below a cell's current value (see ``LostUpdates._prune``).
KEEP = 1024


@dataclass(slots=True)
class _Write:
    pid: int
    seq: int
    value: int
    read_seq: int  # -1: a blind write (no read of the cell before it)
    read_value: int | None
    base: _Write | None  # the write whose value this one was computed from
    depth: int  # length of the chain of bases
    reported: bool = False


class LostUpdates:
    """Feed events in order; ``feed`` returns the lost updates each event revealed."""

    def __init__(self, name_of: Callable[[int], str] = str) -> None:
        self.name_of = name_of
        self._latest: dict[tuple[str, int], _Write | None] = {}
        self._writes: dict[tuple[str, int], int] = {}
        self._reads: dict[tuple[int, str, int], tuple[int, int, _Write | None]] = {}
        self.count = 0

    def feed(self, e: Event) -> list[dict[str, Any]]:
        kind = e["kind"]
        if kind == "shm.read":
            cell = (e["obj"], e.get("offset", 0))
            self._reads[(e["pid"], *cell)] = (e["seq"], e.get("value", 0), self._latest.get(cell))
            return []
        if kind != "shm.write":
            return []
        pid, cell = e["pid"], (e["obj"], e.get("offset", 0))
        latest = self._latest.get(cell)
        read = self._reads.pop((pid, *cell), None)
        if read is None:  # a blind write: it computes nothing from the cell, loses nothing
            read_seq, read_value, base = -1, None, latest
        else:
            read_seq, read_value, base = read
        w = _Write(pid, e["seq"], e.get("value", 0), read_seq, read_value, base, 0)
        w.depth = base.depth + 1 if base is not None else 1
        self._latest[cell] = w
        writes = self._writes[cell] = self._writes.get(cell, 0) + 1
        if w.depth % KEEP == 0:
            self._prune(cell, w)
        if base is latest:  # built on the current value: nothing overwritten (the usual case)
            return []
        lost = [v for v in _overwritten(latest, base) if not v.reported]
        for v in lost:
            v.reported = True
        self.count += len(lost)
        # updates not in the cell's value now (exact for counters: increments - value)
        missing = writes - w.depth
        return [self._describe(cell, victim, w, missing) for victim in lost]

    def _prune(self, cell: tuple[str, int], w: _Write) -> None:
        """Forget the chain more than KEEP writes below ``w`` (or below the oldest write a
        pending read is based on): nothing that old can be found lost any more, and a run
        of millions of writes must not keep them all."""
        pinned = [
            base.depth
            for (_pid, *where), (_seq, _value, base) in self._reads.items()
            if base is not None and tuple(where) == cell
        ]
        floor = min([w.depth, *pinned]) - KEEP
        node = w
        while node is not None and node.depth > floor:
            if node.base is not None and node.base.depth <= floor:
                node.base = None  # the rest is garbage now
                return
            node = node.base

    def _describe(
        self, cell: tuple[str, int], lost: _Write, by: _Write, missing: int
    ) -> dict[str, Any]:
        return {
            "kind": LOST_UPDATE,
            "obj": cell[0],
            "offset": cell[1],
            "lost": self._rmw(lost),
            "by": self._rmw(by),
            "missing": missing,
        }

    def _rmw(self, w: _Write) -> dict[str, Any]:
        return {
            "proc": self.name_of(w.pid),
            "pid": w.pid,
            "read": w.read_value,
            "read_seq": w.read_seq,
            "wrote": w.value,
            "write_seq": w.seq,
        }


def _overwritten(latest: _Write | None, base: _Write | None) -> list[_Write]:
    """Writes on ``latest``'s chain that are not on ``base``'s chain, oldest first."""
    lost: list[_Write] = []
    a, b = latest, base
    while a is not None and (b is None or a.depth > b.depth):
        lost.append(a)
        a = a.base
    while b is not None and (a is None or b.depth > a.depth):
        b = b.base
    while a is not b and a is not None and b is not None:
        lost.append(a)
        a, b = a.base, b.base
    lost.reverse()
    return lost


def lost_updates(events: Iterable[Event]) -> list[dict[str, Any]]:
    """Every lost update in a whole event stream (e.g. a trace), with process names."""
    names: dict[int, str] = {}
    tracker = LostUpdates(lambda pid: names.get(pid, str(pid)))
    found: list[dict[str, Any]] = []
    for e in events:
        if e["kind"] == "proc.start":
            names[e["pid"]] = e.get("name", str(e["pid"]))
        else:
            found.extend(tracker.feed(e))
    return found


def missing(state: Any, obj: str | None = None, offset: int | None = None) -> int:
    """THE lost-update number: updates the cells' values do not contain now.

    Per cell, the ``missing`` of its latest lost-update event (the model keeps them in
    ``state.lost_updates``), summed over the cells asked for (all by default).
    The TUI's checks panel and the scenarios' checks both show this one quantity, so they
    can never disagree. For a counter incremented by read-add-write it is
    ``increments - value``.
    """
    latest: dict[tuple[Any, Any], int] = {}
    for u in state.lost_updates:
        where = (u.get("obj"), u.get("offset", 0))
        if (obj is not None and where[0] != obj) or (offset is not None and where[1] != offset):
            continue
        n = u.get("missing")
        latest[where] = n if isinstance(n, int) and not isinstance(n, bool) else 0
    return sum(latest.values())


def describe_said(u: dict[str, Any], cell_size: int = 8) -> Lazy:
    """One line: the two overlapping read-modify-writes, and who overwrote whom."""
    lost, by = u["lost"], u["by"]
    cell = "{}[{}]".format(u["obj"], u.get("offset", 0) // cell_size)
    return lazy(
        "lost update on {cell}: {by} ({how}) overwrote {lost} ({was}) — {lost}'s update is "
        "gone (missing now: {missing})",
        cell=cell,
        by=by["proc"],
        how=_rmw_said(by),
        lost=lost["proc"],
        was=_rmw_said(lost),
        missing=u.get("missing", "?"),
    )


def _rmw_said(w: dict[str, Any]) -> Lazy:
    if w["read"] is None:
        return lazy("wrote")
    return lazy("read {read}, wrote {wrote}", read=w["read"], wrote=w["wrote"])


def describe(u: dict[str, Any], cell_size: int = 8) -> str:
    """:func:`describe_said` in the language now chosen."""
    return describe_said(u, cell_size).render()
