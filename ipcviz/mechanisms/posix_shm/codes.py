"""Record codes of shared memory (20-29): POSIX and System V segments and shared file
mappings (one family). The registry puts them in the one table (``registry.codes()``)."""

from __future__ import annotations

from typing import Final

from ipcviz.tracer.codes import Code

SHM_READ: Final = 20
SHM_WRITE: Final = 21

CODES: Final[dict[int, Code]] = {
    SHM_READ: Code("shm.read", "offset", "value", payload="bytes"),
    SHM_WRITE: Code("shm.write", "offset", "value", payload="bytes"),
}

COMPLETES: Final[dict[int, int]] = {}
