"""Read-only kernel probes: the kernel's own truth about IPC objects and processes.

Every function is cheap (no subprocess, no process_iter), never consumes data or keeps an end
open, and returns None instead of raising when the process, fd or object vanished (races).
Linux only; run as root (pidfd_getfd, /proc/PID/syscall, /proc/PID/mem need ptrace rights).
"""

from .pipes import PipeEnds, PipePeek, find_pipes, peek_pipe, pipe_inode
from .procs import BlockInfo, BlockTarget, ProcSampler, ProcStats, blocked_on, proc_stats
from .queues import (
    PosixMqStat,
    SysvMqStat,
    posix_mq_stat,
    sysv_mq_peek,
    sysv_mq_stat,
)
from .semaphores import PosixSemStat, SysvSemStat, posix_sem_stat, sysv_sem_stat
from .shm import (
    SysvShmStat,
    address_space,
    read_shm,
    shm_address,
    shm_addresses,
    sysv_shm_addresses,
    sysv_shm_stat,
    sysv_shm_stats,
)

__all__ = [
    "BlockInfo",
    "BlockTarget",
    "PipeEnds",
    "PipePeek",
    "PosixMqStat",
    "PosixSemStat",
    "ProcSampler",
    "ProcStats",
    "SysvMqStat",
    "SysvSemStat",
    "SysvShmStat",
    "address_space",
    "blocked_on",
    "find_pipes",
    "peek_pipe",
    "pipe_inode",
    "posix_mq_stat",
    "posix_sem_stat",
    "proc_stats",
    "read_shm",
    "shm_address",
    "shm_addresses",
    "sysv_mq_peek",
    "sysv_mq_stat",
    "sysv_sem_stat",
    "sysv_shm_addresses",
    "sysv_shm_stat",
    "sysv_shm_stats",
]
