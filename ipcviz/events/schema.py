"""Names and constants of the trace format (documented in docs/trace-format.md).

Events are plain dicts, so the model, the narrator and the exporters need no classes to read
them and a trace is readable with nothing but ``json``.
"""

from __future__ import annotations

from typing import Any, Final

FORMAT: Final = "ipcviz-trace"
#: Bumped on any change that an older reader would misread; readers refuse newer versions.
VERSION: Final = 1

# Kernel object types (the ``type`` of an ``obj.declare`` event): ipcviz.mechanisms.registry.

Event = dict[str, Any]

# Event kinds emitted by the engine itself (workers' kinds come from tracer.codes).
SESSION_END: Final = "session.end"
OBJ_DECLARE: Final = "obj.declare"
OBJ_REMOVE: Final = "obj.remove"
PROC_START: Final = "proc.start"
PROC_EXIT: Final = "proc.exit"
PROC_ERROR: Final = "proc.error"
PROC_OUTPUT: Final = "proc.output"
GATE_STEP: Final = "gate.step"
CONTROL: Final = "control"
CHECK: Final = "check"
ERROR: Final = "error"
NARRATE: Final = "narrate"
REPORT: Final = "report"
TRACER_STALL: Final = "tracer.stall"
DRIFT: Final = "drift"
PROBE_PREFIX: Final = "probe."


def header(scenario: dict[str, Any], session: str, start: str, host: str, **extra: Any) -> dict:
    """Line 1 of every trace: what ran, when and where; enough to replay without the scenario."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "scenario": scenario,
        "session": session,
        "start": start,
        "host": host,
        **extra,
    }
