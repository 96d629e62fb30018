"""The one map from an object's ``type`` to its mechanism.

Adding a type of kernel object is one package under ``ipcviz/mechanisms/`` and one line
here (docs/adding-a-mechanism.md). The engine, the model, the views and the exporters ask
this module; none of them names a type.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ipcviz.events.fields import Kind
from ipcviz.mechanisms import (
    fifo,
    mmap_file,
    pipe,
    posix_mq,
    posix_sem,
    posix_shm,
    sysv_mq,
    sysv_sem,
    sysv_shm,
)
from ipcviz.mechanisms.base import Family, KernelSide, Mechanism, Rule
from ipcviz.model.state import Obj
from ipcviz.tracer import codes as C
from ipcviz.tracer.codes import Code

if TYPE_CHECKING:
    from ipcviz.mechanisms.base import Handler

#: Every mechanism, in the order the docs and ``ipcviz`` list them.
MECHANISMS: tuple[Mechanism, ...] = (
    pipe.MECHANISM,
    fifo.MECHANISM,
    posix_mq.MECHANISM,
    sysv_mq.MECHANISM,
    posix_shm.MECHANISM,
    sysv_shm.MECHANISM,
    mmap_file.MECHANISM,
    posix_sem.MECHANISM,
    sysv_sem.MECHANISM,
)

BY_TYPE: dict[str, Mechanism] = {m.type: m for m in MECHANISMS}
#: Kernel object types (the ``type`` of an ``obj.declare`` event).
TYPES: tuple[str, ...] = tuple(BY_TYPE)


def get(type_: str) -> Mechanism | None:
    """The mechanism of ``type_``, or None for a type this version does not know."""
    return BY_TYPE.get(type_)


def families() -> list[Family]:
    """Each family once (several types share one)."""
    seen: dict[str, Family] = {}
    for m in MECHANISMS:
        seen.setdefault(m.family.name, m.family)
    return list(seen.values())


def handlers() -> dict[str, Handler]:
    """Every mechanism's reducer handlers, by event kind."""
    return {kind: fn for f in families() for kind, fn in f.handlers.items()}


def kinds() -> dict[str, Kind]:
    """Every mechanism's event kinds with their fields: its operations and its probe."""
    out = {kind: spec for f in families() for kind, spec in f.kinds.items()}
    for m in MECHANISMS:
        if m.probe_kind:
            out[m.probe_kind] = Kind(m.probe_fields)
    return out


def words() -> dict[str, Any]:
    """kind → the narrator's wording of it, for every family's kinds."""
    return {kind: fn for f in families() for kind, fn in f.words.items()}


def completes() -> dict[str, tuple[str, ...]]:
    """operation → the kinds that complete its ``.begin`` (Perfetto slices)."""
    return {op: kinds for f in families() for op, kinds in f.completes.items()}


def rules() -> dict[str, tuple[type, Rule]]:
    """kind → (state class the rule applies to, rule): the legal-history rules."""
    return {kind: (f.state, rule) for f in families() for kind, rule in f.rules.items()}


def gone_at_removal() -> frozenset[str]:
    """Types whose removal ends them at once (``Mechanism.gone_at_removal``)."""
    return frozenset(m.type for m in MECHANISMS if m.gone_at_removal)


def observers() -> frozenset[str]:
    """Kinds that change no object state."""
    return frozenset().union(*(f.observers for f in families()))


def refers() -> dict[str, tuple[str, ...]]:
    """kind → the types whose object such an event must name (events/validate.py)."""
    out: dict[str, tuple[str, ...]] = {}
    claimed = {kind for m in MECHANISMS for kind in m.only}  # (a type's own: ``only``)
    for m in MECHANISMS:
        for kind in sorted(m.family.refers):
            if kind not in claimed or kind in m.only:
                out[kind] = (*out.get(kind, ()), m.type)
    return out


def verbs() -> dict[str, str]:
    """kind → the word on its diagram edge (``write``, ``receive``...), every family's."""
    return {kind: verb for f in families() for kind, verb in f.verbs.items()}


def puts() -> frozenset[str]:
    """Diagram verbs that put something into an object (drawn coming in from the left)."""
    return frozenset().union(*(f.puts for f in families()))


def family_of(type_: str) -> Family | None:
    m = BY_TYPE.get(type_)
    return m.family if m is not None else None


def state_of(type_: str) -> type:
    """The state class of ``type_``'s objects (``Obj`` for an unknown type)."""
    m = BY_TYPE.get(type_)
    return m.family.state if m is not None else Obj


@cache
def view(type_: str) -> ModuleType | None:
    """The module that draws ``type_`` (``lines``, ``signature``), loaded on first use."""
    m = BY_TYPE.get(type_)
    if m is None or not m.family.view:
        return None
    return importlib.import_module(m.family.view)


@cache
def diagram(type_: str) -> ModuleType | None:
    """The module that draws ``type_``'s state in the diagram view (``draw``, ``signature``)."""
    m = BY_TYPE.get(type_)
    if m is None or not m.family.diagram:
        return None
    return importlib.import_module(m.family.diagram)


@cache
def kernel(type_: str) -> KernelSide | None:
    """The engine side of ``type_`` (wrapper, probe, drift, cleanup), loaded on first use."""
    m = BY_TYPE.get(type_)
    if m is None or not m.kernel_module:
        return None
    return importlib.import_module(m.kernel_module).KERNEL


@cache
def codes() -> dict[int, Code]:
    """The one table of ring record codes: the session's own (``tracer/codes.py``) and
    every mechanism's (``<type>/codes.py``). A number two of them claim is a bug."""
    table: dict[int, Code] = dict(C.GENERIC)
    for m in MECHANISMS:
        for code, spec in (m.codes.CODES if m.codes is not None else {}).items():
            if table.setdefault(code, spec) is not spec:
                raise RuntimeError(f"record code {code} claimed twice: {table[code]}, {spec}")
    return table


@cache
def code_completes() -> dict[int, int]:
    """Completion code → the begin code it ends. When both are drained in the same batch
    the engine folds the begin into the completion (field ``since``): the op never waited
    long enough to be seen waiting, and the stream carries one event instead of two."""
    return {
        done: begin
        for m in MECHANISMS
        if m.codes is not None
        for done, begin in m.codes.COMPLETES.items()
    }


def code_named(name: str) -> int | tuple[str, ...]:
    """A mechanism's code constant by name (``PIPE_WRITE``, ``READ_END``…), for code that
    still reads them from ``ipcviz.tracer.codes``."""
    for m in MECHANISMS:
        if m.codes is not None and hasattr(m.codes, name):
            return getattr(m.codes, name)
    raise AttributeError(name)
