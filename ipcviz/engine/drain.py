"""Reading the workers' rings into the linearizer's pool, and deciding what is ready.

Why a part of its own: this is the engine's hot loop (with ``Publisher.publish_record``);
it needs the workers, the linearizer and whether the gate holds anything, nothing else.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from ipcviz.engine.linearize import Linearizer
from ipcviz.engine.workers import Worker
from ipcviz.tracer.ring import Record, memory_fence

#: Records drained per ring per loop turn, so control and exits stay responsive.
DRAIN_LIMIT = 20000
#: How long after an operation ended every ring must have been read before it is published
#: (see ``Drainer.drain``): what happened before it is known by then.
HOLD_NS = 30_000_000


class Drainer:
    """``drain()`` once per loop turn; ``drain(only=w)`` as a worker ends."""

    def __init__(
        self,
        workers: dict[int, Worker],
        lin: Linearizer,
        run_hooks: Callable[[], None],
        one_at_a_time: Callable[[], bool],
    ) -> None:
        self.workers = workers
        self.lin = lin
        self.run_hooks = run_hooks
        #: True while the gate lets one operation run at a time (stepped, paced, presented)
        self.one_at_a_time = one_at_a_time
        self.drained_at: dict[int, int] = {}  # pid → every record stamped before is read
        #: rings announced by forked children, adopted before any ring is read: a parent's
        #: fork returns only once its child announced itself, so a record the parent made
        #: after the fork is never read while its child's ring (its ``proc.start``, stamped
        #: at the fork) is still unknown and the record published before it
        self.adopt_announced: Callable[[], None] = lambda: None
        #: Other sources' cutoffs (already less their own hold), None once a source is
        #: done: nothing later than any of them is published yet (a traced command's strace)
        self.horizons: list[Callable[[], int | None]] = []
        self._fence = memory_fence()

    def drain(self, only: Worker | None = None, flush: bool = False) -> bool:
        """Move records from the rings into the pool, and publish what is ready.

        An operation is published once every live ring has been read up to ``HOLD_NS``
        after it ended (in step mode and paced the gate lets one operation run at a time,
        so nothing is held; in presenter mode the gate releases them too); the linearizer
        then puts it in an order the kernel could have made.
        ``only``: drain that (exited) worker's ring to the end, publish nothing yet.
        ``flush``: no record can come any more (every worker is gone): publish all.
        """
        # Records, pool entries and events hold no cycles: the collector would only scan
        # them again and again while they pile up (about a tenth of the time of a long
        # drain). It runs between turns instead.
        gc.disable()
        try:
            return self._drain_rings(only, flush)
        finally:
            gc.enable()

    def drain_killed(self, killed_at: int, hurried: Callable[[], bool]) -> None:
        """The rings of the workers a stop just killed, turn by turn as in the loop (read
        whole at once, a flood's backlog made one pool of 100,000 operations, and each
        search for a queue's order scans its whole pool).

        Nothing that ended after ``killed_at`` is published here: a death not reaped yet
        may be what explains it, and its ``proc.exit`` comes only with the reap. A reader
        woken with end of file as its writer died, before its own SIGKILL came, was an
        ``order.conflict`` (and `verify` failed after a clean Ctrl-C) when ordering the
        backlog took longer than ``STUCK_NS``."""

        def horizon() -> int:
            return killed_at

        self.horizons.append(horizon)
        try:
            while self.drain() and not hurried():
                pass
        finally:
            self.horizons.remove(horizon)

    def _drain_rings(self, only: Worker | None, flush: bool) -> bool:
        more = False
        lin = self.lin
        if only is None:
            self.adopt_announced()
        for w in [only] if only else self.workers.values():
            if w.ring is None:
                continue
            before = time.monotonic_ns()
            self._fence()  # the clock is read before the slot is (ring.memory_fence)
            # Read before draining: a stamp taken (or being taken) but not yet published.
            pending = w.ring.pending_stamp()
            if pending:
                before = min(before, pending)
            forking = w.ring.forking()  # a child not announced yet: its start comes first
            if forking:
                before = min(before, forking)
            batch: list[Record] = []
            limit = DRAIN_LIMIT if only is None else 1 << 30
            n = w.ring.drain(batch, limit)
            if batch:
                lin.add_records(w.pid, batch)
            if n >= limit:
                more = True
                # read up to its last record drained, but never past a fork under way (or
                # a stamp pending): a thread may have written on while another one forks
                self.drained_at[w.pid] = min(batch[-1][2], before)
            else:
                self.drained_at[w.pid] = before
        if only is not None:
            return more
        # Again, after the rings: a child that announced itself after the first look and
        # whose parent's fork is over by now (``Ring.forking`` read 0) is known before
        # anything is published (its ring, not read yet, holds the cutoff back).
        self.adopt_announced()
        if flush:
            lin.flush()
        else:
            live = [
                self.drained_at.get(w.pid, 0)
                for w in self.workers.values()
                if not w.exited and w.ring is not None
            ]
            hold = 0 if self.one_at_a_time() else HOLD_NS
            read_to = min(live) if live else time.monotonic_ns()
            cutoff = read_to - hold
            for horizon in self.horizons:
                other = horizon()
                if other is not None:
                    cutoff, read_to = min(cutoff, other), min(read_to, other)
            lin.emit_ready(cutoff, read_to)
        self.run_hooks()
        return more
