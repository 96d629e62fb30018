"""A kernel probe older than a process's last operation is not shown as its current state."""

from __future__ import annotations

from ipcviz.draw.render import proc_state_text
from ipcviz.model.reducer import apply
from ipcviz.model.state import State


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


def test_a_probe_older_than_a_post_to_its_semaphore_is_not_shown():
    """The try-out's "blocked on lock" beside lock at value 1: the holder's post is in the
    stream, the waiter's wake-up record not yet (a legal order: the post comes first). The
    kernel woke the waiter at the post, so a probe taken before the post no longer says
    where the waiter is: the row shows the model's own "waiting", never "blocked"."""
    state = State()
    for e in [
        ev(0, "obj.declare", 0, obj="lock", type="posix_sem", value=1),
        ev(1, "proc.start", 6, name="holder"),
        ev(2, "proc.start", name="waiter"),
        ev(3, "sem.wait", 6, obj="lock"),
        ev(4, "sem.wait.begin", obj="lock"),
        ev(5, "probe.proc", blocked_on="lock", wchan="futex_do_wait"),
    ]:
        apply(state, e)
    waiter = state.procs[7]
    assert proc_state_text(state, waiter).plain.startswith("blocked: sem.wait on lock")
    apply(state, ev(6, "sem.post", 6, obj="lock"))
    assert state.objects["lock"].value == 1
    shown = proc_state_text(state, waiter).plain
    assert "blocked" not in shown and shown.startswith("waiting: sem.wait on lock"), shown
    assert state.proc_probe(waiter) == {}
    apply(state, ev(7, "sem.wait", obj="lock"))  # its record arrives: it has the lock
    assert proc_state_text(state, waiter).plain == "running"


def test_a_probe_taken_after_the_post_is_shown():
    state = State()
    for e in [
        ev(0, "obj.declare", 0, obj="lock", type="posix_sem", value=0),
        ev(1, "proc.start", 6, name="poster"),
        ev(2, "proc.start", name="waiter"),
        ev(3, "sem.post", 6, obj="lock"),
        ev(4, "probe.proc", blocked_on="lock", wchan="futex_do_wait"),  # still asleep
    ]:
        apply(state, e)
    assert "blocked on lock" in proc_state_text(state, state.procs[7]).plain
