"""The few Linux calls Python's standard library lacks (prctl)."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies."""
    _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def become_subreaper() -> None:
    """Orphaned descendants (a worker's own children) are re-parented to us, not to init."""
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
