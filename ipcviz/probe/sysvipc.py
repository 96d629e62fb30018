"""``/proc/sysvipc/{msg,sem,shm}``: the kernel's tables of System V objects, read without a
syscall, by one parser for every reader (the probes, the leftovers of ``ipcviz run --
PROG``, ``ipcviz clean``, the deadlock proof).

A row is a dict of its numbers by the header's column names, plus ``id`` (the second
column: ``msqid``, ``semid`` or ``shmid``). A row with a field that is not a number, or
with fewer fields than the header names, is no row: a malformed line is no traceback.
"""

from __future__ import annotations

from ._procfs import read_text

#: The tables, by the name /proc/sysvipc gives them.
TABLES = ("msg", "sem", "shm")

Row = dict[str, int]


def read(table: str) -> list[Row]:
    """The rows of ``/proc/sysvipc/TABLE`` now (none if it cannot be read)."""
    text = read_text(f"/proc/sysvipc/{table}")
    return [] if text is None else parse(text)


def parse(text: str) -> list[Row]:
    """The rows of one table's ``text``, header first."""
    lines = text.splitlines()
    cols = lines[0].split() if lines else []
    if len(cols) < 2:
        return []
    rows = []
    for line in lines[1:]:
        fields = line.split()
        if len(fields) < len(cols):
            continue
        try:
            row = dict(zip(cols, map(int, fields), strict=False))
        except ValueError:
            continue
        row["id"] = row[cols[1]]
        rows.append(row)
    return rows


def ids(table: str) -> set[int]:
    """The ids of the objects of ``table`` that exist now."""
    return {row["id"] for row in read(table)}
