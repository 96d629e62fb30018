"""The lecture's teaching points (T1…T35 in the lecture notes), each in a few words, and
the notes' sections: the picker and ``ipcviz list`` show scenarios in lecture order.

The words are ours, from /work/shared/seed/ipc-lecture-notes.en.md: short enough for a
table cell, so a student sees what "T17" means without the notes at hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from ipcviz.i18n import N_, get_lang, translate

#: T-id → what it teaches, in a few words.
POINTS: dict[str, str] = {
    "T1": N_("processes truly run at once"),
    "T2": N_("multiprogramming: one CPU"),
    "T3": N_("no shared address space"),
    "T4": N_("pipe: one way (half-duplex)"),
    "T5": N_("two-way needs two pipes"),
    "T6": N_("the shell's |"),
    "T7": N_("pipe(): a pair of fds"),
    "T8": N_("read in the order written"),
    "T9": N_("no name: family only"),
    "T10": N_("many pipes, hard to manage"),
    "T11": N_("file I/O: slower than shm"),
    "T12": N_("dies with its processes"),
    "T13": N_("named pipe (FIFO)"),
    "T14": N_("outlives its processes"),
    "T15": N_("mkfifo(): a file, by name"),
    "T16": N_("FIFO: still one way"),
    "T17": N_("queue in kernel memory"),
    "T18": N_("messages carry a type"),
    "T19": N_("byte stream vs messages"),
    "T20": N_("kernel's linked list"),
    "T21": N_("queue: two-way"),
    "T22": N_("msqid_ds bookkeeping"),
    "T23": N_("a full queue blocks"),
    "T24": N_("urgent first (priority)"),
    "T25": N_("asynchronous receive"),
    "T26": N_("shared memory: direct access"),
    "T27": N_("kernel allocates, others attach"),
    "T28": N_("different addresses, same memory"),
    "T29": N_("fastest IPC"),
    "T30": N_("shared memory: two-way"),
    "T31": N_("needs synchronization (races)"),
    "T32": N_("semaphore: a lock"),
    "T33": N_("no key: block until one"),
    "T34": N_("deadlock"),
    "T35": N_("wait/signal must be atomic"),
}

#: The notes' sections: (number, name, first T, last T).
SECTIONS: tuple[tuple[str, str, int, int], ...] = (
    ("1", N_("Multiprocessing"), 1, 3),
    ("1.1a", N_("Pipe"), 4, 12),
    ("1.1b", N_("Named pipe"), 13, 16),
    ("1.1c", N_("Message queue"), 17, 25),
    ("1.1d", N_("Shared memory"), 26, 31),
    ("1.1e", N_("Semaphore"), 32, 35),
)

S = TypeVar("S")


def number(t_id: str) -> int:
    """17 for "T17"; past the last point for anything else (sorted last)."""
    return int(t_id[1:]) if t_id[:1] == "T" and t_id[1:].isdigit() else len(POINTS) + 1


def gloss(t_id: str, lang: str | None = None) -> str:
    """``T17 queue in kernel memory``, in ``lang`` (default: the language now chosen)."""
    words = POINTS.get(t_id)
    return f"{t_id} {translate(words, lang or get_lang())}" if words else t_id


def section_of(t_id: str, lang: str | None = None) -> tuple[str, str]:
    """(number, name) of the notes' section that teaches ``t_id``; ("", "other") if none;
    the name in ``lang`` (default: the language now chosen)."""
    n = number(t_id)
    for num, name, first, last in SECTIONS:
        if first <= n <= last:
            return num, translate(name, lang or get_lang())
    return "", translate(N_("other"), lang or get_lang())


def first_point(scenario: Any) -> str:
    """The teaching point a scenario is about: the first it lists."""
    teaches = tuple(getattr(scenario, "teaches", ()))
    return teaches[0] if teaches else ""


def lecture_order(scenarios: Iterable[S]) -> list[S]:
    """Scenarios in the order of the lecture: by their first teaching point, then id."""
    return sorted(scenarios, key=lambda s: (number(first_point(s)), str(getattr(s, "id", ""))))
