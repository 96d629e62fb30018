"""Record codes of semaphores (30-39), POSIX and System V (one family). The registry puts
them in the one table (``registry.codes()``)."""

from __future__ import annotations

from typing import Final

from ipcviz.tracer.codes import Code

SEM_WAIT_BEGIN: Final = 30
SEM_WAIT: Final = 31
SEM_POST: Final = 32
SEM_TRYWAIT: Final = 33
#: semctl(SETVAL/SETALL): a value given, not taken or posted (System V only)
SEM_SET: Final = 34

CODES: Final[dict[int, Code]] = {
    SEM_WAIT_BEGIN: Code("sem.wait.begin"),
    SEM_WAIT: Code("sem.wait"),
    SEM_POST: Code("sem.post"),
    SEM_TRYWAIT: Code("sem.trywait", "ok"),
    SEM_SET: Code("sem.set", "value"),
}

COMPLETES: Final[dict[int, int]] = {SEM_WAIT: SEM_WAIT_BEGIN}
