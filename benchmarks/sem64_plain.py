"""The workers of ``tests/truth/sem64.py`` without ipcviz: 64 processes take turns on one
POSIX semaphore around a counter in shared memory, with the same kernel objects
(``posix_ipc``) and the same loop. The end-to-end benchmark's baseline (``run.py``).

Run alone: ``python benchmarks/sem64_plain.py 500`` prints the counter (64 x rounds).
"""

from __future__ import annotations

import mmap
import os
import struct
import sys

import posix_ipc

CELL = struct.Struct("<q")


def run(processes: int, rounds: int) -> int:
    """Start the workers at once (a pipe as the start line), wait for all; the final count."""
    name = f"/ipcviz-bench-{os.getpid()}"
    sem = posix_ipc.Semaphore(name, posix_ipc.O_CREX, mode=0o600, initial_value=1)
    posix_ipc.unlink_semaphore(name)  # nameless from here on: nothing can leak
    mm = mmap.mmap(-1, 8)  # shared with the children by fork
    start_r, start_w = os.pipe()
    pids = []
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(start_w)
                os.read(start_r, 1)
                for _ in range(rounds):
                    with sem:
                        mm[0:8] = CELL.pack(CELL.unpack(mm[0:8])[0] + 1)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(start_r)
    os.close(start_w)  # every child's read() returns: they all start now
    for pid in pids:
        os.waitpid(pid, 0)
    sem.close()
    return CELL.unpack(mm[0:8])[0]


if __name__ == "__main__":
    print(run(64, int(sys.argv[1]) if len(sys.argv) > 1 else 500))
