"""Errors a user can cause. The CLI prints them as one line and exits with ``exit_code``."""

from __future__ import annotations


class IpcvizError(Exception):
    """Bad input or an unusable environment: exit code 2, one line, no traceback."""

    exit_code = 2


class TraceError(IpcvizError):
    """A trace file that cannot be read (garbage, foreign format, newer version)."""


class ScenarioError(IpcvizError):
    """A scenario that cannot be found or loaded."""


class KernelLimitError(IpcvizError):
    """A request beyond a kernel limit; the message names the sysctl to change."""
