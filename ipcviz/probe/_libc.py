"""Shared ctypes bindings to glibc, so the probes need no C extension and no subprocess."""

from __future__ import annotations

import ctypes
import os
import platform

libc = ctypes.CDLL(None, use_errno=True)

IS_X86_64 = platform.machine() in ("x86_64", "AMD64")

# fcntl / ioctl numbers (asm-generic and x86_64 agree on these).
F_SETPIPE_SZ = 1031
F_GETPIPE_SZ = 1032
FIONREAD = 0x541B
SPLICE_F_NONBLOCK = 0x02

# System V IPC commands and flags.
IPC_NOWAIT = 0o4000
IPC_STAT = 2
MSG_COPY = 0o40000
GETPID = 11
GETVAL = 12
GETNCNT = 14
GETZCNT = 15

# pidfd_getfd(2) has the same number on every architecture (added after the unification).
SYS_PIDFD_GETFD = 438

libc.tee.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint]
libc.tee.restype = ctypes.c_ssize_t
libc.msgrcv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_long, ctypes.c_int]
libc.msgrcv.restype = ctypes.c_ssize_t
libc.msgctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
libc.msgctl.restype = ctypes.c_int
# semctl is variadic; the 4th argument is ignored by the GET* commands used here.
libc.semctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
libc.semctl.restype = ctypes.c_int
libc.syscall.restype = ctypes.c_long


class IpcPerm(ctypes.Structure):
    """struct ipc_perm as glibc passes it to the kernel (ipc64_perm) on 64-bit Linux."""

    _fields_ = [
        ("key", ctypes.c_int),
        ("uid", ctypes.c_uint),
        ("gid", ctypes.c_uint),
        ("cuid", ctypes.c_uint),
        ("cgid", ctypes.c_uint),
        ("mode", ctypes.c_uint),
        ("seq", ctypes.c_ushort),
        ("pad2", ctypes.c_ushort),
        ("unused1", ctypes.c_ulong),
        ("unused2", ctypes.c_ulong),
    ]


class MsqidDs(ctypes.Structure):
    """struct msqid_ds (= kernel msqid64_ds) for 64-bit Linux: 120 bytes."""

    _fields_ = [
        ("msg_perm", IpcPerm),
        ("msg_stime", ctypes.c_long),
        ("msg_rtime", ctypes.c_long),
        ("msg_ctime", ctypes.c_long),
        ("msg_cbytes", ctypes.c_ulong),
        ("msg_qnum", ctypes.c_ulong),
        ("msg_qbytes", ctypes.c_ulong),
        ("msg_lspid", ctypes.c_int),
        ("msg_lrpid", ctypes.c_int),
        ("unused4", ctypes.c_ulong),
        ("unused5", ctypes.c_ulong),
    ]


def check(ret: int) -> int:
    """Raise OSError with the C errno when a libc call returned -1."""
    if ret == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def tee(fd_in: int, fd_out: int, length: int) -> int:
    """Duplicate up to length bytes from pipe fd_in into pipe fd_out, never blocking."""
    return check(libc.tee(fd_in, fd_out, length, SPLICE_F_NONBLOCK))


def pidfd_getfd(pid: int, fd: int) -> int:
    """Duplicate another process's fd (same open file, no new open): needs ptrace rights."""
    pidfd = os.pidfd_open(pid)
    try:
        return check(libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0))
    finally:
        os.close(pidfd)
