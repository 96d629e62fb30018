"""Record codes: what a binary ring record means, and how it becomes a JSON event.

A record carries a code, an object index, a timestamp, two integers ``a`` and ``b`` and an
optional payload. A ``Code`` names them, so the worker's hot path packs integers only and
the engine does all the naming and encoding.

Here: the ``Code`` type and the codes of the session itself (narration, reports, the step
gate, processes and objects made after start). Each mechanism's codes live in its own
package (``ipcviz/mechanisms/<type>/codes.py``); ``registry.codes()`` assembles the one
table. ``TABLE``, ``COMPLETES`` and a mechanism's constants (``PIPE_WRITE``…) are still
readable here, looked up in the registry on first use, for code not moved yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

Payload = Literal["bytes", "text", "json", None]


@dataclass(frozen=True, slots=True)
class Code:
    kind: str
    a: str | None = None  # event field that receives the record's ``a``
    b: str | None = None  # event field that receives the record's ``b``
    payload: Payload = None
    #: fields every event of this code carries with these values (a variant of a kind:
    #: a System V receive that ``MSG_NOERROR`` may have cut is ``mq.recv`` with cut 1)
    fixed: tuple[tuple[str, int], ...] = ()


PAD: Final = 0

# Session and narration (1-9)
NARRATE: Final = 1
REPORT: Final = 2
PROC_ERROR: Final = 3
# Mechanisms (10-89): pipe/codes.py 10-19, posix_shm 20-29, posix_sem 30-39,
# posix_mq 40-45, sysv_mq 46-49 (see each package)
# Step gate (90-99)
GATE_WAIT: Final = 90
# Objects made inside a worker after start (100-109): payload = the obj.declare fields
OBJ_DECLARE: Final = 100
#: A forked child's first record, in its own ring: payload = the proc.start fields
PROC_START: Final = 101

#: The session's own codes (the registry adds every mechanism's).
GENERIC: Final[dict[int, Code]] = {
    NARRATE: Code("narrate", "step_index"),
    REPORT: Code("report", payload="json"),
    PROC_ERROR: Code("proc.error", payload="text"),
    GATE_WAIT: Code("gate.wait", "code"),
    OBJ_DECLARE: Code("obj.declare", payload="json"),
    PROC_START: Code("proc.start", payload="json"),
}


def __getattr__(name: str) -> Any:
    """``TABLE``, ``COMPLETES`` and the mechanisms' constants, from the registry (imported
    here, not at the top: the mechanisms' codes import ``Code`` from this module)."""
    from ipcviz.mechanisms import registry

    if name == "TABLE":
        value: Any = registry.codes()
    elif name == "COMPLETES":
        value = registry.code_completes()
    elif name.isupper():
        value = registry.code_named(name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # looked up once
    return value
