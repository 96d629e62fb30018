"""A kernel probe older than a process's last operation is not shown as its current state."""

from __future__ import annotations

from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.tui.render import proc_state_text


def ev(seq: int, kind: str, pid: int = 7, **fields) -> dict:
    return {"t": seq * 10_000_000, "seq": seq, "pid": pid, "kind": kind, **fields}


def test_blocked_on_from_a_probe_is_shown_only_while_it_is_newer_than_the_model():
    state = State()
    for e in [
        ev(0, "obj.declare", 0, obj="empty", type="posix_sem", value=0),
        ev(1, "proc.start", name="producer"),
        ev(2, "sem.wait.begin", obj="empty"),
        ev(3, "probe.proc", blocked_on="empty", wchan="futex_do_wait"),
    ]:
        apply(state, e)
    p = state.procs[7]
    assert "empty" in proc_state_text(state, p).plain  # waiting, and the kernel agrees
    apply(state, ev(4, "sem.wait", obj="empty"))  # it got the unit: the probe is now old
    assert proc_state_text(state, p).plain == "running"
    apply(state, ev(5, "probe.proc", blocked_on="empty", wchan="futex_do_wait"))
    assert "blocked on empty" in proc_state_text(state, p).plain  # a newer probe: shown
