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
#: A further part of one System V semop on several semaphores (or several units): the
#: kernel applies the whole call at one instant, so the part goes right after the part
#: before it, with the call's begin (``joined`` in the event; the linearizer keeps a
#: call's parts together and orders them as the plain codes of ``JOINED``).
SEM_WAIT_JOINED: Final = 35
SEM_POST_JOINED: Final = 36
SEM_TRYWAIT_JOINED: Final = 37
#: A System V semop that failed with EIDRM: the set was removed (IPC_RMID) while the
#: process waited in it; it ends the wait's begin, after the removal
SEM_EIDRM: Final = 38

CODES: Final[dict[int, Code]] = {
    # payload: none, or a System V semop on several semaphores: ``{"sems": [...],
    # "units": [...]}``, every decrement of the call (model.py ``_wait_begin``)
    SEM_WAIT_BEGIN: Code("sem.wait.begin", payload="json"),
    SEM_WAIT: Code("sem.wait"),
    SEM_POST: Code("sem.post"),
    SEM_TRYWAIT: Code("sem.trywait", "ok"),
    SEM_SET: Code("sem.set", "value"),
    SEM_WAIT_JOINED: Code("sem.wait", fixed=(("joined", 1),)),
    SEM_POST_JOINED: Code("sem.post", fixed=(("joined", 1),)),
    SEM_TRYWAIT_JOINED: Code("sem.trywait", "ok", fixed=(("joined", 1),)),
    SEM_EIDRM: Code("sem.eidrm"),
}

#: a joined part's code → the code of the same operation on its own
JOINED: Final[dict[int, int]] = {
    SEM_WAIT_JOINED: SEM_WAIT,
    SEM_POST_JOINED: SEM_POST,
    SEM_TRYWAIT_JOINED: SEM_TRYWAIT,
}

COMPLETES: Final[dict[int, int]] = {SEM_WAIT: SEM_WAIT_BEGIN}
#: (``SEM_EIDRM`` ends a wait's begin too: a kind of its own, so the linearizer pairs them,
#: not this table)
