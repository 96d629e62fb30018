"""What a mechanism is: everything ipcviz knows about one type of kernel object, in one place.

A *mechanism* is one ``type`` of ``obj.declare`` (pipe, fifo, posix_mq, ...). Its package
``ipcviz/mechanisms/<type>/`` holds the wrapper the workers call, how the model declares and
changes its state, the legal-history rules, the kernel probe, the drift fields and the
cleanup of a killed session's objects. The registry (``registry.py``) maps a type to its
``Mechanism``; the engine, the model, the views and the exporters ask the registry and never
name a type.

Several types share their event kinds (pipes and FIFOs both record ``pipe.*``, both kinds of
semaphore ``sem.*``): those kinds, their reducer handlers and their rules form a
``Family``, defined once by the package that owns it and named by the others.

Two halves, so the model stays free of the kernel: ``Mechanism`` (model side: state,
handlers, rules, declare hooks) is imported by the model and the views; ``KernelSide``
(wrapper, probe, drift, cleanup) lives in the package's ``kernel.py`` and is loaded only by
the engine and ``ipcviz clean`` (``registry.kernel(type)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ipcviz.events.fields import Check, Kind
from ipcviz.model.state import Obj, State

if TYPE_CHECKING:
    from ipcviz.i18n import Lazy
    from ipcviz.ipc.base import KernelObject

Event = dict[str, Any]
Handler = Callable[[State, Event], None]
#: A legal-history rule: the model's object *before* the operation, the operation → None
#: if the kernel could have done it then, else a short reason (model/legal.py), worded when
#: shown (``ipcviz verify --lang``); the engine records it in English (``order.conflict``).
Rule = Callable[[Any, Event], "Lazy | None"]
#: Kernel keys an object is known by to a blocked syscall (``ipcviz.probe.BlockTarget``):
#: ("inode", n), ("path", p), ("mq_name", n), ("sem_name", n), ("semid", id), ("msqid", id)...
Key = tuple[str, Any]


@dataclass(frozen=True)
class Found:
    """An object of a program ipcviz did not write, as its calls named it (``ipcviz
    attach``): what a probe needs to find it in the kernel (``KernelSide.probe_found``)."""

    name: str
    #: its System V id or POSIX name ("" for a pipe or FIFO: read through a holder)
    ident: int | str = ""
    num: int = 0  # a System V semaphore's number in its set
    #: (pid, fd, end) of each descriptor that holds it (end 0: read, 1: write)
    holders: tuple[tuple[int, int, int], ...] = ()
    names: Mapping[int, str] = field(default_factory=dict)  # pid → process name


def _nothing(*_: Any) -> None:
    return None


@dataclass(frozen=True)
class Family:
    """Event kinds shared by several types, with the state class they act on."""

    name: str
    state: type[Obj]
    #: kind → reducer handler (model/reducer.py dispatches to it)
    handlers: Mapping[str, Handler]
    #: kind → its fields (the schema: every kind of the family, checked as a trace is read)
    kinds: Mapping[str, Kind] = field(default_factory=dict)
    #: kind → legal-history rule, checked before the handler runs
    rules: Mapping[str, Rule] = field(default_factory=dict)
    #: kinds that change no object state (placed anywhere their value allows)
    observers: frozenset[str] = frozenset()
    #: kinds whose handler requires a declared object of this family (events/validate.py)
    refers: frozenset[str] = frozenset()
    #: operations that, while the kernel shows the process asleep in them, leave the object
    #: quiet (no record of this object can be in flight: drift may be judged)
    quiet_waits: frozenset[str] = frozenset()
    #: module that draws the state (``lines(state, obj, width, rows)``, ``signature(obj)``),
    #: loaded by the views only (rich segments, no Textual)
    view: str = ""
    #: kind → how the narrator tells it: (narrator, event) → text, or None (not told);
    #: read ``narrator.state`` for the state right after the event
    words: Mapping[str, Callable[[Any, Event], str | None]] = field(default_factory=dict)
    #: Perfetto: operation → the kinds that complete its ``.begin`` (one slice from begin to
    #: completion); ``slices``: kinds drawn as a slice even when no begin was recorded
    #: (an event carrying its folded begin, ``since``, is a slice whatever its kind)
    completes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    slices: frozenset[str] = frozenset()
    #: Perfetto: the object's counter track, (unit, value of the state), or None
    counter: tuple[str, Callable[[Any], int]] | None = None
    #: Perfetto flows: kind → (puts data in, not takes it out; counted in messages, not
    #: bytes): arrows go from each put to the takes that got its data
    flows: Mapping[str, tuple[bool, bool]] = field(default_factory=dict)
    #: the diagram: kind → the word on the edge between the process and the object
    #: (``write``, ``read``...); kinds not listed draw no edge (``State.uses``)
    verbs: Mapping[str, str] = field(default_factory=dict)
    #: the diagram: verbs that put something into the object (the process is drawn on its
    #: left, the side things come in); the others take (drawn on its right)
    puts: frozenset[str] = frozenset()
    #: module that draws the object's state inside its diagram box (``draw(state, obj,
    #: width, rows, lit)``, ``signature(obj)``), loaded by the views only (no Textual)
    diagram: str = ""


@dataclass(frozen=True)
class Mechanism:
    """One type of kernel object, as the model and the views see it."""

    type: str
    family: Family
    #: one line for ``ipcviz list``-style help and the docs
    title: str = ""
    #: fills the new state object from its ``obj.declare`` event (state, obj, event)
    declare: Callable[[State, Obj, Event], None] = _nothing
    #: a process started (proc.start): e.g. a forked child holds its parent's pipe ends
    on_proc_start: Callable[[State, Obj, Event], None] = _nothing
    #: a process exited: the kernel let go of whatever it held of this object
    on_proc_exit: Callable[[Obj, int], None] = _nothing
    #: the kind of its kernel-probe event (``probe.*``) and that event's fields
    probe_kind: str = ""
    probe_fields: Mapping[str, Check] = field(default_factory=dict)
    #: the probe field that reads what the family's ``counter`` counts (a pipe's bytes, a
    #: queue's messages, a semaphore's value): the counter of an object the model cannot
    #: count (``outside``) is the kernel's readings of it
    kernel_counter: str = ""
    #: fields an ``obj.declare`` of this type must carry (a trace is untrusted input)
    required: tuple[str, ...] = ()
    #: kinds of its family that only this type does (System V's ``mq.copy``, ``mq.limit``):
    #: an event of one of them naming an object of another type is refused when read
    only: frozenset[str] = frozenset()
    #: module of the engine side (``KERNEL: KernelSide``); loaded on demand
    kernel_module: str = ""
    #: its removal (``obj.remove``: System V ``IPC_RMID``) ends it at once: no call on it
    #: succeeds after it, and a process asleep in one fails with EIDRM (``mq.eidrm``,
    #: ``sem.eidrm``). Not so for a name unlinked (the descriptors keep the object) nor a
    #: System V segment (its attachments keep it until the last detach)
    gone_at_removal: bool = False
    #: its ring record codes (a module with ``CODES`` and ``COMPLETES``, e.g. ``pipe/codes.py``);
    #: types that share a family's records leave it to the family's first type
    codes: ModuleType | None = None

    @property
    def state(self) -> type[Obj]:
        return self.family.state


@dataclass(frozen=True)
class KernelSide:
    """The engine's half: the wrapper class, how to find, probe and remove the object."""

    wrapper: type[KernelObject]
    #: the kernel keys a blocked syscall may name this object by (prober, deadlock watcher)
    keys: Callable[[Any], Iterable[Key]] = lambda obj: ()
    #: (prober, wrapper object) → (fields of its probe event, extra fields for ``compare``
    #: only), or None when it cannot be probed now
    probe: Callable[[Any, Any], tuple[dict[str, Any], dict[str, Any]] | None] = _nothing
    #: (model object, probe fields) → (signature of the model's view, [(field, model,
    #: kernel)] pairs to compare), or None when there is nothing to compare
    compare: Callable[[Obj, dict[str, Any]], tuple[Any, list[tuple[str, Any, Any]]] | None] = (
        _nothing
    )
    #: ``ipcviz clean``: the registry entry's object exists and is ours
    owned: Callable[[dict[str, Any]], bool] = lambda entry: False
    #: ``ipcviz clean``: remove it (only called when ``owned``); True if removed
    remove: Callable[[dict[str, Any]], bool] = lambda entry: False
    #: each sweep, for a command's process group (prober, pid): objects found, not declared
    discover: Callable[[Any, int], None] | None = None
    #: (a program's object as its calls named it, byte cap) → the fields of its probe event,
    #: or None when it cannot be read now (``ipcviz attach``: no wrapper object exists)
    probe_found: Callable[[Found, int], dict[str, Any] | None] | None = None
