"""Kernel and model side by side at the moments that matter (real processes, real objects).

A kernel snapshot is taken at each narration step while its process waits at its gate, and
at the end of the run; a kernel line older than the model's last change says so; a process
asleep in nanosleep is shown as sleeping; a shell's pipes show the kernel's fill and the
commands that hold them. States are forced (a process waits until the kernel shows what the
test needs, then narrates a step declared with ``probe=True``, which waits for the
engine's snapshot), never left to the scheduler.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from ipcviz.draw.render import object_lines, proc_state_text
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.posix_mq.state import QueueObj
from ipcviz.mechanisms.posix_shm.state import ShmObj
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.conftest import BuiltinTraces, run_scenario
from tests.mechanisms.helpers import by_kind, pids_by_name, run_file

Event = dict[str, Any]


def plain(lines: list) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def snapshot_probes(header: dict[str, Any], events: list[Event], why: str, step: str | None):
    """(probe event, model state right after it) for the probes of one snapshot.

    A snapshot probes each process and object once; a periodic sweep may follow it at once
    (on a loaded machine, before any other event): a second probe of the same thing is
    that sweep's, not the snapshot's."""
    state = State(header=header)
    inside = False
    seen: set[tuple[str, Any, Any]] = set()
    for e in events:
        apply(state, e)
        if e["kind"] == "probe.snapshot":
            inside = e.get("why") == why and (step is None or e.get("step") == step)
            seen = set()
        elif not e["kind"].startswith("probe.") and e["kind"] != "obj.declare":
            inside = False  # (a snapshot may declare a pipe it finds in /proc)
        elif inside:
            key = (e["kind"], e.get("pid"), e.get("obj"))
            if key in seen:
                inside = False
                continue
            seen.add(key)
            yield e, state


def test_t22_narration_has_a_probe_of_that_moment_whose_qnum_is_the_models_count(
    builtin_traces: BuiltinTraces, tmp_path
):
    result, header, events = builtin_traces.copy("sysv-mq-typed", tmp_path)
    assert result.returncode == 0, result.stderr
    seen = []
    for e, state in snapshot_probes(header, events, "narrate", "msqid_ds"):
        if e["kind"] == "probe.sysv_mq" and e["obj"] == "mq":
            q = state.objects["mq"]
            assert isinstance(q, QueueObj)
            seen.append((e["qnum"], len(q.messages) - len(q.early)))
    assert seen == [(5, 5)]  # "5 messages on the queue": the kernel says so at that step
    # Every narration step got its snapshot, and the run's end one before the removal.
    snaps = by_kind(events, "probe.snapshot")
    steps = [s["step"] for s in snaps if s["why"] == "narrate"]
    assert sorted(steps) == sorted(e["step"] for e in by_kind(events, "narrate"))
    end = [i for i, e in enumerate(events) if e["kind"] == "probe.snapshot" and e["why"] == "end"]
    removes = [i for i, e in enumerate(events) if e["kind"] == "obj.remove"]
    assert len(end) == 1 and removes and end[0] < min(removes)
    after_end = [e for e in events[end[0] :] if e["kind"] == "probe.sysv_mq"]
    assert after_end and after_end[0]["qnum"] == 0  # the final state: the queue is empty
    # A free-running narration is released without a gate.step: not an operation.
    assert not by_kind(events, "gate.step")


STALE = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("stale-line", "a probe older than the model's last change")
    scenario.step("written", "five bytes are in the pipe", probe=True)
    scenario.step("read", "the reader took them", probe=True)
    p = scenario.pipe("p", writer="writer", reader="reader")
    go = scenario.semaphore("go", value=0)

    @scenario.process("writer")
    def writer(ctx):
        p.write(b"hello")
        ctx.step("written")  # snapshot: nbytes=5
        go.post()
        p.close_write()

    @scenario.process("reader")
    def reader(ctx):
        go.wait()
        assert p.read_exactly(5) == b"hello"
        ctx.step("read")  # snapshot: nbytes=0
"""


def test_a_kernel_line_older_than_the_models_last_change_is_marked_stale(tmp_path, monkeypatch):
    # No periodic sweep: the only probes are the snapshots, so the read is known to fall
    # between two of them.
    monkeypatch.setenv("IPCVIZ_PROBE_INTERVAL", "0")
    result, header, events = run_file(tmp_path, "stale", STALE)
    assert result.returncode == 0, result.stderr
    state = State(header=header)
    checked = 0
    for e in events:
        apply(state, e)
        obj = state.objects.get("p")
        if not isinstance(obj, PipeObj):
            continue
        text = plain(object_lines(state, obj, 120))
        if e["kind"] == "pipe.read" and e.get("n") == 5:
            # The model emptied the pipe; the kernel line is from the "written" snapshot.
            assert obj.kernel["nbytes"] == 5 and obj.nbytes == 0
            assert "kernel (before the last change" in text, text
            assert "(empty)" in text
            checked += 1
        elif e["kind"] == "probe.pipe":
            assert "before the last change" not in text, text  # a fresh probe is not marked
            assert obj.kernel["nbytes"] == obj.nbytes
            checked += 1
    assert checked >= 3


SLEEPER = """
    import signal
    import time

    from ipcviz.scenario import Scenario

    scenario = Scenario("sleeper", "a process in time.sleep")
    scenario.step("look", "the sleeper sleeps", probe=True)
    lock = scenario.semaphore("lock", value=1)

    class Woken(Exception):
        pass

    def wake(signum, frame):
        raise Woken()

    @scenario.process("sleeper")
    def sleeper(ctx):
        signal.signal(signal.SIGUSR1, wake)
        lock.wait()  # a model operation first: the probe below is newer than it
        lock.post()
        try:
            time.sleep(120)
        except Woken:
            pass

    @scenario.process("watcher")
    def watcher(ctx):
        import os

        pid = ctx.pid_of("sleeper")
        wchan = ctx.wait_for_wchan(pid, "nanosleep", seconds=30)
        ctx.report("wchan", wchan)
        ctx.step("look")  # snapshot while the sleeper is asleep in nanosleep
        os.kill(pid, signal.SIGUSR1)

    @scenario.check("the watcher saw the sleeper asleep")
    def saw(run):
        return "nanosleep" in run.report("watcher", "wchan", "")
"""


def test_a_process_in_time_sleep_is_shown_sleeping_not_running_or_waiting(tmp_path):
    result, header, events = run_file(tmp_path, "sleeper", SLEEPER)
    assert result.returncode == 0, result.stderr + result.stdout
    pid = pids_by_name(events)["sleeper"]
    shown = []
    for e, state in snapshot_probes(header, events, "narrate", "look"):
        if e["kind"] == "probe.proc" and e["pid"] == pid:
            assert e["syscall"] in ("clock_nanosleep", "nanosleep"), e
            shown.append(proc_state_text(state, state.procs[pid]).plain)
    assert shown == ["sleeping (nanosleep, kernel at this moment)"]  # at the probe itself


def test_an_op_older_than_a_probe_showing_nanosleep_is_not_shown_as_waiting():
    """The freshest source wins: a begin with no end yet, then a probe showing nanosleep."""
    state = State()
    for e in [
        {"t": 0, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "s", "type": "posix_sem"},
        {"t": 1, "seq": 1, "pid": 7, "kind": "proc.start", "name": "w"},
        {"t": 2, "seq": 2, "pid": 7, "kind": "sem.wait.begin", "obj": "s"},
        {"t": 9, "seq": 3, "pid": 7, "kind": "probe.proc", "state": "sleeping"}
        | {"wchan": "hrtimer_nanosleep", "syscall": "clock_nanosleep", "blocked_on": None},
    ]:
        apply(state, e)
    shown = proc_state_text(state, state.procs[7]).plain
    assert shown == "sleeping (nanosleep, kernel at this moment)"
    # The end of the wait arrives later but happened before the probe (t): still sleeping,
    # and the probe was taken after the moment now shown (stamped 4 ns after it)
    apply(state, {"t": 5, "seq": 4, "pid": 7, "kind": "sem.wait", "obj": "s"})
    shown = proc_state_text(state, state.procs[7]).plain
    assert shown == "sleeping (nanosleep, kernel <1ms later)"
    # An operation after the probe: the probe is out of date, the model is shown.
    apply(state, {"t": 12, "seq": 5, "pid": 7, "kind": "sem.post", "obj": "s"})
    apply(state, {"t": 13, "seq": 6, "pid": 7, "kind": "sem.wait.begin", "obj": "s"})
    assert proc_state_text(state, state.procs[7]).plain == "waiting: sem.wait on s"


PIPELINE = """
    import os
    import signal

    from ipcviz.scenario import Scenario

    scenario = Scenario("pipeline-held", "seq | grep | wc, all three alive")
    scenario.step("look", "three commands, two pipes", probe=True)
    scenario.command(
        "pipeline", ["sh", "-c", "seq 1 1000000000 | grep 7 | wc -l"], trace=False
    )

    def commands(pid):
        out = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out[comm] = int(entry)
        return out

    @scenario.process("watcher")
    def watcher(ctx):
        import time

        pid = ctx.pid_of("pipeline")
        deadline = time.monotonic() + 30
        while {"seq", "grep", "wc"} - set(commands(pid)) and time.monotonic() < deadline:
            time.sleep(0.005)  # until the shell has exec'd all three (their fds are set)
        ctx.report("commands", sorted(commands(pid)))
        ctx.step("look")  # snapshot: the pipes and who holds them
        os.killpg(pid, signal.SIGKILL)

    @scenario.check("the watcher saw seq, grep and wc")
    def saw(run):
        return run.report("watcher", "commands") == ["grep", "seq", "wc"]
"""


def _holders(state: State, obj: PipeObj, end: str) -> set[str]:
    names = obj.kernel.get("names") or {}
    return {names.get(str(x[0]), "") for x in obj.kernel.get(end) or []}


def test_a_shells_pipes_show_seq_grep_and_wc_as_their_writers_and_readers(tmp_path):
    result, header, events = run_file(tmp_path, "pipeline", PIPELINE)
    assert result.returncode in (0, 1), result.stderr  # (the pipeline was killed on purpose)
    assert all(c["ok"] for c in by_kind(events, "check")), by_kind(events, "check")
    pipes: dict[str, tuple[set[str], set[str], str]] = {}
    for e, state in snapshot_probes(header, events, "narrate", "look"):
        if e["kind"] == "probe.pipe":
            obj = state.objects[e["obj"]]
            assert isinstance(obj, PipeObj) and obj.info.get("discovered")
            pipes[obj.name] = (
                _holders(state, obj, "writers"),
                _holders(state, obj, "readers"),
                plain(object_lines(state, obj, 120)),
            )
    # (the shell may still hold an end for a moment after forking: allowed beside them)
    first = [t for w, r, t in pipes.values() if "seq" in w and "grep" in r and w | r <= SH_SEQ_GREP]
    second = [t for w, r, t in pipes.values() if "grep" in w and "wc" in r and w | r <= SH_GREP_WC]
    assert len(first) == 1 and len(second) == 1, pipes
    assert _line(first[0], " writers:").count("seq[") == 1, first[0]
    assert "grep[" in _line(first[0], " writers:").split("readers:")[1], first[0]
    assert "grep[" in _line(second[0], " writers:").split("readers:")[0], second[0]
    assert "wc[" in _line(second[0], " writers:").split("readers:")[1], second[0]


SH_SEQ_GREP = {"sh", "seq", "grep"}
SH_GREP_WC = {"sh", "grep", "wc"}


def _line(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


@pytest.mark.parametrize("scenario", ["shell-pipeline"])
def test_shell_pipeline_fill_comes_from_the_probe_and_names_its_commands(tmp_path, scenario):
    result, header, events = run_scenario(scenario, tmp_path)
    assert result.returncode == 0, result.stderr
    state = State(header=header)
    full = holders = 0
    for e in events:
        apply(state, e)
        if e["kind"] != "probe.pipe":
            continue
        obj = state.objects[e["obj"]]
        text = plain(object_lines(state, obj, 120))
        nbytes, cap = e["nbytes"], e["capacity"]
        # The bar is the probe's fill, never the blind model's "0/65536 (empty)".
        assert f"{nbytes}/{cap} B" in text, text
        if nbytes:
            assert "(empty" not in text and not re.search(rf"(?<!\d)0/{cap} B", text), text
            full += nbytes == cap
        names = set((e.get("names") or {}).values())
        # "python": a command's process between the engine's fork and its exec (true then)
        assert names <= {"sh", "seq", "grep", "sleep", "wc", "python"}, names
        holders += "seq" in names or "grep" in names
    assert holders and len(by_kind(events, "probe.pipe")) >= 2


def test_a_users_step_and_a_freeze_each_get_a_snapshot_that_agrees_with_the_model(tmp_path):
    from tests.control.test_step_mode import Live

    live = Live("shm-race", tmp_path / "t.jsonl")
    try:
        assert live.until(lambda s: len(live.gated(s)) == 3)  # every worker at its gate
        inc2 = next(p for p in live.state.procs.values() if p.name == "inc2")

        def snapshot_done(why: str, count: int = 1):
            def pred(s: State) -> bool:
                starts = [i for i, e in enumerate(live.events) if e.get("why") == why]
                return len(starts) >= count and any(
                    e["kind"] == "probe.shm" for e in live.events[starts[count - 1] :]
                )

            return pred

        for n in (1, 2):  # a read, then the write of the incremented value
            live.until(lambda s: inc2.gated_op is not None)
            live.engine.send("step", pid=inc2.pid)
            assert live.until(snapshot_done("step", n))
        assert live.until(snapshot_done("pause"))  # --step paused the run at the start
        snaps = [e for e in live.events if e.get("why") == "step"]
        assert [e["by"] for e in snaps] == [inc2.pid, inc2.pid]
        assert live.state.kinds["shm.write"] >= 1
        # The world stands at its gates: the kernel's segment is the model's, byte for byte.
        shm = live.state.objects["counter"]
        assert isinstance(shm, ShmObj)
        raw = base64.b64decode(shm.kernel["data"])
        assert any(shm.data) and raw[: len(shm.data)] == bytes(shm.data)[: len(raw)]
        live.engine.send("freeze")
        assert live.until(snapshot_done("freeze"))
        start = next(i for i, e in enumerate(live.events) if e.get("why") == "freeze")
        probed = {e["pid"] for e in live.events[start:] if e["kind"] == "probe.proc"}
        assert probed == {p.pid for p in live.state.procs.values() if p.alive}
        live.engine.send("resume")
        live.engine.send("step_mode", on=False)
        assert live.until(lambda s: s.outcome is not None)
        assert any(e.get("why") == "end" for e in live.events)
    finally:
        live.close()


def test_presenter_narrations_are_probed_once_the_world_stands_and_agree_with_the_model(
    tmp_path,
):
    """--present: at every narration step, the snapshot (taken once the others stopped at
    their gates or sleep in the kernel) shows the queue and semaphore the model shows."""
    import queue
    import threading
    import time

    from ipcviz.engine.client import EngineProcess
    from ipcviz.scenario.loader import resolve

    engine = EngineProcess(resolve("sysv-mq-typed"), tmp_path / "t.jsonl", quick=True, present=True)
    q: queue.Queue[Event | None] = queue.Queue()

    def read() -> None:
        for event in engine.events():
            q.put(event)
        q.put(None)

    threading.Thread(target=read, daemon=True).start()
    compared: list[str] = []
    try:
        deadline = time.monotonic() + 60
        state = State(header=q.get(timeout=60))
        snap: Event | None = None
        while (e := q.get(timeout=max(0.01, deadline - time.monotonic()))) is not None:
            apply(state, e)
            if e["kind"] == "probe.snapshot":
                snap = e if e["why"] == "narrate" else None
            elif snap is not None and e["kind"] == "probe.sem":  # the snapshot's last probe
                mq, ready = state.objects["mq"], state.objects["ready"]
                assert isinstance(mq, QueueObj)
                assert mq.kernel["qnum"] == len(mq.messages) - len(mq.early), snap
                assert ready.kernel["value"] == ready.value, snap
                compared.append(snap["step"])
                snap = None
                engine.send("continue")
            elif e["kind"] == "session.end":
                break
        assert sorted(compared) == sorted(e["step"] for e in by_kind_state(state))
    finally:
        engine.send("stop")
        engine.wait(30)
        engine.close()


def by_kind_state(state: State) -> list[dict[str, str]]:
    """The narration steps the scenario declares (each is narrated once in this run)."""
    return [{"step": s["id"]} for s in state.steps()]
