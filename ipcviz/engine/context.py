"""What the engine's parts may use of the engine: emit, the workers, the model, periodic
tasks, commands, and the override points of another source of events.

Why a Protocol: the parts (``publish``, ``drain``, ``life``, ``commands``, ``checks``,
``periodic``) and the watchers (``gate``, ``probing``, ``deadlock``, ``adopt``) receive
the engine itself, but are typed against this narrow surface, so what a part reaches for
is visible here and nowhere else. ``ProgramEngine`` (ipcviz/sources/strace) overrides the
underscore methods; the parts call them through the context so the override holds.
"""

from __future__ import annotations

import select
from collections.abc import Callable
from typing import Any, Protocol

from ipcviz.engine.linearize import Linearizer
from ipcviz.engine.workers import Worker
from ipcviz.model.state import State
from ipcviz.scenario.api import Scenario
from ipcviz.session.registry import Registry

Event = dict[str, Any]


class EngineContext(Protocol):
    scenario: Scenario
    params: dict[str, Any]
    model: State
    workers: dict[int, Worker]
    registry: Registry
    lin: Linearizer
    t0: int
    stop_reason: str | None
    frozen: bool  # the user froze the workers (``freeze``) and has not resumed them
    on_events: list[Callable[[list[Event]], None]]
    on_end: list[Callable[[], None]]
    gate: Any  # engine/gate.py's Gate (step gate, deadlock and lost-update watchers)

    def emit(self, kind: str, pid: int = 0, **fields: Any) -> Event: ...

    def now(self) -> int: ...

    def add_periodic(self, interval: float, fn: Callable[[], None]) -> None: ...

    def add_command(self, name: str, fn: Callable[[dict[str, Any]], None]) -> None: ...

    # override points (another source of events replaces them)
    def control(self, cmd: dict[str, Any]) -> None: ...

    def _drain(self, only: Worker | None = None, flush: bool = False) -> bool: ...

    def _finish_worker(self, w: Worker, status: int | None, poller: select.poll | None) -> None: ...

    def _read_output(self, fd: int, poller: select.poll | None, final: bool = False) -> None: ...

    def _output(self, w: Worker, data: bytes) -> None: ...

    def _model_pid(self, w: Worker) -> int: ...

    def _check_stalls(self) -> None: ...
