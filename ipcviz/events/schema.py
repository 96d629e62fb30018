"""The trace format's names and the engine's own event kinds (docs/trace-format.md).

Events are plain dicts, so the model, the narrator and the exporters need no classes to read
them and a trace is readable with nothing but ``json``. Every kind is described once, as a
:class:`~ipcviz.events.fields.Kind` (its fields and the ones it cannot do without): the
engine's own kinds here (``ENGINE_KINDS``), each mechanism's operations and probe in its
package (``Family.kinds``, ``Mechanism.probe_fields``). ``events/validate.py`` checks every
event read against them; ``tests/test_schema.py`` holds the reducer, the narrator, the tracer
codes and the docs to the same list.
"""

from __future__ import annotations

from typing import Any, Final

from ipcviz.events.fields import (
    I64,
    Check,
    Kind,
    base64,
    count,
    flag,
    integer,
    list_of,
    number,
    optional,
    record,
    small,
    string,
    strings,
)

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
#: A traced process ran another program (execve): its new name and command line.
PROC_EXEC: Final = "proc.exec"
PROC_ERROR: Final = "proc.error"
PROC_OUTPUT: Final = "proc.output"
GATE_WAIT: Final = "gate.wait"
GATE_STEP: Final = "gate.step"
CONTROL: Final = "control"
CHECK: Final = "check"
ERROR: Final = "error"
NARRATE: Final = "narrate"
REPORT: Final = "report"
RECORDING_STOPPED: Final = "recording.stopped"
TRACER_STALL: Final = "tracer.stall"
UNKNOWN: Final = "unknown"
ORDER_CONFLICT: Final = "order.conflict"
ORDER_LATE: Final = "order.late"
DRIFT: Final = "drift"
DEADLOCK: Final = "deadlock"
DEADLOCK_RESOLVED: Final = "deadlock.resolved"
DEADLOCK_RECOVER: Final = "deadlock.recover"
HOLDER_DIED: Final = "holder.died"
LOST_UPDATE: Final = "race.lost_update"
PROBE_PROC: Final = "probe.proc"
PROGRAM_LEFTOVER: Final = "program.leftover"
#: One line about how the run is seen (a scenario's commands by the probes alone, and why).
NOTICE: Final = "notice"
PROBE_SNAPSHOT: Final = "probe.snapshot"
PROBE_PREFIX: Final = "probe."

#: Fields any event may carry, whatever its kind.
COMMON: Final[dict[str, Check]] = {
    "t": integer(),
    "seq": integer(),
    "pid": integer(),
    "kind": string,
    "obj": string,
    "data": base64,
    "since": integer(),
    #: the thread of the process that recorded it (0, or absent: its first)
    "thread": integer(0),
}
#: Fields every event carries.
BASE: Final = ("t", "seq", "pid", "kind")

#: One side of a lost update: a process and the values it read and wrote.
_LOST_SIDE = record(
    {"proc": string, "pid": integer(), "read": optional(number), "wrote": number},
    required=("proc", "read", "wrote"),
)
#: One link of a deadlock cycle: who waits for what, held by whom.
_LINK = record(
    {
        "proc": string,
        "pid": integer(),
        "waits_for": string,
        "held_by": string,
        "held_by_pid": optional(integer()),
    },
    required=("proc", "waits_for", "held_by"),
)

#: A System V queue's limit in bytes (msg_qbytes: an unsigned long, which root may set past
#: msgmnb, far past one read/write).
QBYTES = integer(0, 2**64 - 1)

#: The engine's own kinds. An ``obj.declare``'s type-specific fields are checked here too
#: (the type's ``Mechanism.required`` says which it must carry).
ENGINE_KINDS: Final[dict[str, Kind]] = {
    OBJ_DECLARE: Kind(
        {
            "type": string,
            "kernel_name": string,
            "capacity": count,
            "path": string,
            "cells": count,
            "size": count,
            "cell_size": integer(1, 1 << 20),
            #: a semaphore's (SEM_VALUE_MAX is INT_MAX; System V's SEMVMX, 32767)
            "value": integer(0, 2**31 - 1),
            "max_messages": integer(0),
            "max_message_size": integer(0),
            "max_bytes": QBYTES,
            "discovered": flag,
            "outside": flag,
            #: only kernel probes see what it holds (a program's memory: no system call)
            "probed": flag,
            "readers": strings,
            "writers": strings,
            #: a pipe or FIFO found at ``ipcviz attach``: the watched processes holding
            #: its read end, its write end (an end of file needs every writer's close)
            "reader_pids": list_of(integer()),
            "writer_pids": list_of(integer()),
        },
        ("obj", "type"),
    ),
    OBJ_REMOVE: Kind({}, ("obj",)),
    PROC_START: Kind({"name": string, "color": integer(), "command": strings}, ("name",)),
    PROC_EXIT: Kind({"code": optional(integer()), "signal": integer(), "signame": string}),
    PROC_EXEC: Kind({"name": string, "command": strings}, ("name",)),
    PROC_ERROR: Kind({"text": string}),
    PROC_OUTPUT: Kind({"cut": count}),
    NARRATE: Kind({"step": string, "step_index": integer()}),
    REPORT: Kind({"key": string}, ("key",)),
    CHECK: Kind(
        {
            "description": string,
            "ok": flag,
            "detail": optional(string),
            "detail_ko": optional(string),
            # ok false, but no failure: the run cannot show the claim (a worker killed)
            "undecided": flag,
        },
        ("description", "ok"),
    ),
    CONTROL: Kind(
        {
            "action": string,
            "target": integer(),
            "thread": integer(0),
            "on": flag,
            "ok": flag,
            "reason": string,
            "seed": optional(integer()),
            "schedule": optional(string),
        }
    ),
    ERROR: Kind({"message": string}),
    RECORDING_STOPPED: Kind({"message": string}),
    UNKNOWN: Kind({"code": integer()}),
    TRACER_STALL: Kind({"count": integer(0, I64[1])}),
    ORDER_CONFLICT: Kind({"message": string}),
    ORDER_LATE: Kind({"message": string, "late_ns": integer(0, I64[1])}),
    SESSION_END: Kind(
        {
            "outcome": optional(string),
            "exit_code": optional(integer()),
            "reason": optional(string),
            "events": integer(),
        }
    ),
    GATE_WAIT: Kind({"op": string, "gate_fd": integer(0)}),
    GATE_STEP: Kind({"op": string, "by": string, "thread": integer(0)}),
    DRIFT: Kind({"field": string, "resolved": flag}, ("obj",)),
    DEADLOCK: Kind({"cycle": list_of(_LINK)}),
    DEADLOCK_RESOLVED: Kind(),
    DEADLOCK_RECOVER: Kind({"n": small, "victim": integer()}, ("obj",)),
    HOLDER_DIED: Kind(
        {
            "holder": integer(),
            "proc": string,
            "n": small,
            "value": small,
            "waiters": list_of(record({"pid": integer(), "proc": string})),
        },
        ("obj", "holder"),
    ),
    LOST_UPDATE: Kind(
        {"offset": integer(0, I64[1]), "lost": _LOST_SIDE, "by": _LOST_SIDE, "missing": number},
        ("obj", "offset", "lost", "by"),
    ),
    PROGRAM_LEFTOVER: Kind(  # no obj: never used
        {
            "message": string,
            "removed": flag,
            "reason": optional(string),
            "what": optional(string),
            "name": optional(string),
            "hint": optional(string),
        }
    ),
    NOTICE: Kind({"message": string, "reason": optional(string), "name": optional(string)}),
    PROBE_SNAPSHOT: Kind({"why": string, "step": optional(string), "by": integer()}),
    PROBE_PROC: Kind(
        {
            "state": string,
            "cpu_percent": number,
            "cpu_num": integer(),
            "rss": integer(),
            "wchan": string,
            "syscall": optional(string),
            "blocked_on": optional(string),
        }
    ),
}


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
