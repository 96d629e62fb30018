"""What every kernel object of a scenario has in common."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from ipcviz.errors import ScenarioError
from ipcviz.session.registry import NAME_RE


class Session(Protocol):
    """What an object needs from the engine to create itself (see engine.session)."""

    sid: str
    #: The session's private 0700 directory for files (FIFOs, mapped files); ``fifo_dir``
    #: is the same, under its older name.
    files_dir: str
    fifo_dir: str

    def register(self, entry: dict[str, Any]) -> dict[str, Any]: ...
    def update(self, old: dict[str, Any], new: dict[str, Any]) -> None: ...


class KernelObject:
    """A kernel object declared by a scenario.

    The same Python object is the declaration (in the scenario file), the creator (in the
    engine, before the workers fork) and the instrumented handle (in each worker).
    """

    type: ClassVar[str] = ""

    def __init__(self, name: str) -> None:
        if not NAME_RE.match(name):
            raise ScenarioError(
                f"object name {name!r}: use a letter then letters, digits, - or _ (max 32)"
            )
        self.name = name
        self.index = -1  # position in the scenario's object list; set by Scenario
        self.kernel_name = ""

    def create(self, session: Session) -> None:
        """Create the kernel object (engine, before fork). Register it *before* creating."""
        raise NotImplementedError

    def declare(self) -> dict[str, Any]:
        """Fields of this object's ``obj.declare`` event."""
        return {"obj": self.name, "type": self.type, "kernel_name": self.kernel_name}

    def address(self) -> str:
        """How an ordinary program names this object: its path or POSIX name (a System V
        object: its id). A scenario's command finds it in ``$IPCVIZ_<NAME>`` (``env_name``)."""
        return self.kernel_name

    def environment(self) -> dict[str, str]:
        """What a scenario's command is told about this object (``scenario.command``)."""
        return {env_name(self.name): self.address()}

    def in_worker(self, proc_name: str) -> None:
        """Called in each worker right after fork (e.g. to close pipe ends it does not use)."""

    def in_engine_after_fork(self) -> None:
        """Called in the engine once all workers are forked (e.g. to drop its pipe ends)."""

    def destroy(self) -> None:
        """Remove the kernel object (engine, at the end of the run, on every exit path)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def env_name(name: str) -> str:
    """The environment variable giving a command an object's address: ``IPCVIZ_`` and the
    object's name in capitals, ``-`` as ``_`` (``to-wc`` → ``IPCVIZ_TO_WC``)."""
    return "IPCVIZ_" + name.upper().replace("-", "_")
