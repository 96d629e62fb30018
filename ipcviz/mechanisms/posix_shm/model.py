"""Shared memory as the model sees it: the ``shm.*`` kinds, shared by every kind of segment.

No medium in between (T26): the model keeps a copy of the segment, cut into cells, with who
wrote each cell last, so views can colour a cell by its writer and show lost updates.
"""

from __future__ import annotations

from typing import Any

from ipcviz.events.codec import payload
from ipcviz.events.fields import I64, U64, Kind, dict_of, integer, number
from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.base import Family
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.mechanisms.posix_shm.words import WORDS
from ipcviz.model.ops import changed
from ipcviz.model.state import Obj, State

Event = dict[str, Any]
#: Largest shared-memory segment the model keeps a copy of (bytes).
MAX_SHM = 8 * 1024 * 1024


def _shm_write(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, ShmObj)
    data = payload(e)
    off = e["offset"]
    end = off + len(data)
    if not 0 <= off < obj.size:
        return
    if end > obj.size:
        data, end = data[: obj.size - off], obj.size
    obj.data[off:end] = data
    obj.writes += 1
    changed(obj, e)
    size = obj.cell_size
    first, last = off // size, (max(end, off + 1) - 1) // size
    if first == last and first < obj.cells:  # one cell: the usual case
        obj.last_writer[first] = e["pid"]
        obj.changed_seq[first] = e["seq"]
        return
    for cell in range(first, min(last, obj.cells - 1) + 1):
        obj.last_writer[cell] = e["pid"]
        obj.changed_seq[cell] = e["seq"]


def _shm_read(s: State, e: Event) -> None:
    obj = s.objects.get(e["obj"])
    if isinstance(obj, ShmObj):
        obj.reads += 1
        off, data = e.get("offset", 0), payload(e)
        if obj.outside and off >= 0 and off + len(data) <= len(obj.data):
            obj.data[off : off + len(data)] = data  # a store no event shows: the read says


def _legal_read(obj: ShmObj, e: Event) -> Lazy | None:
    off = e.get("offset", 0)
    data = payload(e)
    if not off >= 0 or off + len(data) > obj.size:
        return None  # outside what the model keeps: nothing to compare
    if obj.outside:  # a process ipcviz cannot watch stores there: any value may be read
        return None
    if obj.data[off : off + len(data)] != data:
        return lazy("read at offset {offset} returned a value no write had left there", offset=off)
    return None


def declare(s: State, obj: Obj, e: Event) -> None:
    """A segment of ``size`` bytes seen as ``cells`` cells of ``cell_size`` bytes.

    A trace is untrusted input: model at most MAX_SHM bytes of a segment, whatever size it
    declares (the wrappers never create more than 8 MiB)."""
    assert isinstance(obj, ShmObj)
    obj.size, obj.cell_size = min(int(e["size"]), MAX_SHM), max(1, int(e.get("cell_size", 8)))
    obj.cells = min(int(e["cells"]), obj.size // obj.cell_size)
    obj.data = bytearray(obj.size)
    obj.last_writer = [0] * obj.cells
    obj.changed_seq = [-1] * obj.cells


_OFFSET, _VALUE = integer(0, I64[1]), integer(*U64)
#: The kernel's view of a segment: its size and where each process mapped it.
PROBE_FIELDS = {
    "size": integer(),
    "addresses": dict_of(lambda v: None if isinstance(v, str) else number(v)),
}

FAMILY = Family(
    name="shm",
    kinds={
        "shm.read": Kind({"offset": _OFFSET, "value": _VALUE}),
        "shm.write": Kind({"offset": _OFFSET, "value": _VALUE}, ("obj", "offset")),
    },
    state=ShmObj,
    view="ipcviz.mechanisms.posix_shm.view",
    words=WORDS,
    handlers={"shm.write": _shm_write, "shm.read": _shm_read},
    verbs={"shm.write": "write", "shm.read": "read"},
    puts=frozenset({"write"}),
    diagram="ipcviz.mechanisms.posix_shm.diagram",
    rules={"shm.read": _legal_read},
    observers=frozenset({"shm.read"}),
    refers=frozenset({"shm.write"}),
)
