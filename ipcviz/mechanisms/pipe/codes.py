"""Record codes of pipes and FIFOs (10-19): FIFO events use the same kinds, the object's
type tells them apart. The registry puts them in the one table (``registry.codes()``)."""

from __future__ import annotations

from typing import Final

from ipcviz.tracer.codes import Code

PIPE_WRITE_BEGIN: Final = 10
PIPE_WRITE: Final = 11
PIPE_READ_BEGIN: Final = 12
PIPE_READ: Final = 13
PIPE_CLOSE: Final = 14
PIPE_EPIPE: Final = 15
PIPE_OPEN_BEGIN: Final = 16
PIPE_OPEN: Final = 17

CODES: Final[dict[int, Code]] = {
    PIPE_WRITE_BEGIN: Code("pipe.write.begin", "n"),
    PIPE_WRITE: Code("pipe.write", "n", "size", payload="bytes"),
    PIPE_READ_BEGIN: Code("pipe.read.begin", "max"),
    PIPE_READ: Code("pipe.read", "n", payload="bytes"),
    PIPE_CLOSE: Code("pipe.close", "end"),
    PIPE_EPIPE: Code("pipe.epipe", "n"),
    PIPE_OPEN_BEGIN: Code("pipe.open.begin", "end"),
    PIPE_OPEN: Code("pipe.open", "end", "fd"),
}

#: completion code → the begin code it ends (see ``registry.code_completes``)
COMPLETES: Final[dict[int, int]] = {
    PIPE_WRITE: PIPE_WRITE_BEGIN,
    PIPE_READ: PIPE_READ_BEGIN,
    PIPE_OPEN: PIPE_OPEN_BEGIN,
}

#: Pipe ends, as carried in ``end`` fields.
READ_END: Final = 0
WRITE_END: Final = 1
END_NAMES: Final = ("read", "write")
