"""The lecture's teaching points (T1…T35 in the lecture notes), each in a few words, and
the notes' sections: the picker and ``ipcviz list`` show scenarios in lecture order.

The words are ours, from /work/shared/seed/ipc-lecture-notes.en.md: short enough for a
table cell, so a student sees what "T17" means without the notes at hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

#: T-id → what it teaches, in a few words.
POINTS: dict[str, str] = {
    "T1": "processes truly run at once",
    "T2": "multiprogramming: one CPU",
    "T3": "no shared address space",
    "T4": "pipe: one way (half-duplex)",
    "T5": "two-way needs two pipes",
    "T6": "the shell's |",
    "T7": "pipe(): a pair of fds",
    "T8": "read in the order written",
    "T9": "no name: family only",
    "T10": "many pipes, hard to manage",
    "T11": "file I/O: slower than shm",
    "T12": "dies with its processes",
    "T13": "named pipe (FIFO)",
    "T14": "outlives its processes",
    "T15": "mkfifo(): a file, by name",
    "T16": "FIFO: still one way",
    "T17": "queue in kernel memory",
    "T18": "messages carry a type",
    "T19": "byte stream vs messages",
    "T20": "kernel's linked list",
    "T21": "queue: two-way",
    "T22": "msqid_ds bookkeeping",
    "T23": "a full queue blocks",
    "T24": "urgent first (priority)",
    "T25": "asynchronous receive",
    "T26": "shared memory: direct access",
    "T27": "kernel allocates, others attach",
    "T28": "different addresses, same memory",
    "T29": "fastest IPC",
    "T30": "shared memory: two-way",
    "T31": "needs synchronization (races)",
    "T32": "semaphore: a lock",
    "T33": "no key: block until one",
    "T34": "deadlock",
    "T35": "wait/signal must be atomic",
}

#: The notes' sections: (number, name, first T, last T).
SECTIONS: tuple[tuple[str, str, int, int], ...] = (
    ("1", "Multiprocessing", 1, 3),
    ("1.1a", "Pipe", 4, 12),
    ("1.1b", "Named pipe", 13, 16),
    ("1.1c", "Message queue", 17, 25),
    ("1.1d", "Shared memory", 26, 31),
    ("1.1e", "Semaphore", 32, 35),
)

S = TypeVar("S")


def number(t_id: str) -> int:
    """17 for "T17"; past the last point for anything else (sorted last)."""
    return int(t_id[1:]) if t_id[:1] == "T" and t_id[1:].isdigit() else len(POINTS) + 1


def gloss(t_id: str) -> str:
    """``T17 queue in kernel memory``."""
    words = POINTS.get(t_id)
    return f"{t_id} {words}" if words else t_id


def section_of(t_id: str) -> tuple[str, str]:
    """(number, name) of the notes' section that teaches ``t_id``; ("", "other") if none."""
    n = number(t_id)
    for num, name, first, last in SECTIONS:
        if first <= n <= last:
            return num, name
    return "", "other"


def first_point(scenario: Any) -> str:
    """The teaching point a scenario is about: the first it lists."""
    teaches = tuple(getattr(scenario, "teaches", ()))
    return teaches[0] if teaches else ""


def lecture_order(scenarios: Iterable[S]) -> list[S]:
    """Scenarios in the order of the lecture: by their first teaching point, then id."""
    return sorted(scenarios, key=lambda s: (number(first_point(s)), str(getattr(s, "id", ""))))
